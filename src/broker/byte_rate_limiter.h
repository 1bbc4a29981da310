#pragma once
// A byte-rate limit (token bucket) for replication throttles: Kafka's
// follower.replication.throttled.rate applied to the catch-up of replicas a
// reassignment adds. Pure: the caller passes the time. One thread.
//
// The bucket holds at most one second of bytes. A fetch may go when the
// bucket is not in debt; what it brought is charged afterwards (the size is
// known only then), so the average stays at the rate and a burst is bounded
// by one fetch, which the caller keeps to `fetch_max_bytes()`.

#include <algorithm>
#include <cstdint>

namespace dmq::broker {

class ByteRateLimiter {
 public:
  // bytes_per_second 0 = unlimited.
  explicit ByteRateLimiter(int64_t bytes_per_second) : rate_(bytes_per_second) {}

  bool unlimited() const { return rate_ <= 0; }

  // Whether a throttled fetch may be sent at now_ms.
  bool may_fetch(int64_t now_ms) {
    refill(now_ms);
    return unlimited() || tokens_ > 0;
  }

  // Milliseconds until may_fetch turns true (0 if it is).
  int64_t wait_ms(int64_t now_ms) {
    refill(now_ms);
    if (unlimited() || tokens_ > 0) return 0;
    return (-tokens_ * 1000) / rate_ + 1;
  }

  void charge(int64_t bytes, int64_t now_ms) {
    refill(now_ms);
    if (!unlimited()) tokens_ -= bytes;
  }

  // The largest fetch one throttled partition should ask for.
  int32_t fetch_max_bytes(int32_t usual) const {
    return unlimited() ? usual : static_cast<int32_t>(std::clamp<int64_t>(rate_, 1, usual));
  }

 private:
  void refill(int64_t now_ms) {
    if (unlimited()) return;
    if (last_ms_ < 0) {
      last_ms_ = now_ms;
      tokens_ = rate_;
      return;
    }
    const int64_t elapsed = std::max<int64_t>(0, now_ms - last_ms_);
    last_ms_ = now_ms;
    tokens_ = std::min(rate_, tokens_ + elapsed * rate_ / 1000);
  }

  int64_t rate_;
  int64_t tokens_ = 0;
  int64_t last_ms_ = -1;
};

}  // namespace dmq::broker
