#pragma once
// DMQ_GROUP_ASSERT: invariant checks for programmer errors in the group
// coordinator. They stay on in release builds. Never use them on bytes from
// the network or from __consumer_offsets: those are input and get an error.

#include <cstdio>
#include <cstdlib>

#define DMQ_GROUP_ASSERT(cond)                                                          \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
