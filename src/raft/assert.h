#pragma once
// Invariant checks for programmer errors inside the Raft core. They stay on in
// release builds: a violated invariant in consensus code must stop the process
// rather than corrupt a replicated log. Never use them on message or storage
// contents (that is input; input gets an error value).

#include <cstdio>
#include <cstdlib>

#define DMQ_RAFT_ASSERT(cond)                                                                  \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "raft assertion failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
