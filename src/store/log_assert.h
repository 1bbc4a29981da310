#pragma once
// Invariant checks for the partition log code. They stay on in release builds:
// a broken invariant in storage code must stop the process before it writes
// more bytes, not corrupt the log quietly. Never use them on bytes read from
// disk or the network; those are input and get an error value.

#include <cstdio>
#include <cstdlib>

#define DMQ_STORE_ASSERT(cond)                                                                \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "%s:%d: store invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)
