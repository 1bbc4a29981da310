#pragma once
// DMQ_KAFKA_ASSERT: invariant checks for programmer errors in the Kafka codec.
// They stay on in release builds. Never use them on bytes that came from the
// network or disk: malformed input is reported with an error value instead.

#include <cstdio>
#include <cstdlib>

#define DMQ_KAFKA_ASSERT(cond)                                                          \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
