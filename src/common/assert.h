#pragma once
// DMQ_ASSERT: the project's one invariant check for programmer errors. It
// stays on in release builds: a broken invariant in consensus, storage or
// protocol code must stop the process rather than corrupt a replicated log or
// a partition quietly. Never use it on bytes from the network or disk, on a
// token or a config file: that is input, and input gets an error value.
// Split `a && b` into two checks so the failure names the one that broke.

#include <cstdio>
#include <cstdlib>

#define DMQ_ASSERT(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) [[unlikely]] {                                                         \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
