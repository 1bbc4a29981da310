#pragma once
// DMQ_SECURITY_ASSERT: invariant checks for programmer errors; kept on in
// release builds. Never use them on bytes from the network, a file or a
// token: those get an Error value instead.

#include <cstdio>
#include <cstdlib>

#define DMQ_SECURITY_ASSERT(cond)                                                       \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
