#pragma once
// Invariant checks for programmer errors; kept on in release builds. Never use
// them on bytes from the network or disk: those get an Error value instead.

#include <cstdio>
#include <cstdlib>

#define DMQ_CLUSTER_ASSERT(cond)                                                        \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
