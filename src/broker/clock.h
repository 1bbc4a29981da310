#pragma once
// The broker's two clocks in milliseconds: wall time for what is stored or
// sent (record timestamps, segment ages, producer expiry) and steady time for
// intervals (follower lag, retry backoff).

#include <chrono>
#include <cstdint>

namespace dmq::broker {

inline int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace dmq::broker
