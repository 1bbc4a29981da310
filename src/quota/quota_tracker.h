#pragma once
// Usage per quota entity and kind, and the throttle each request earns
// (KIP-219): a request's usage is recorded against the entity its quota
// resolved to (quota.h), and when the entity's rate is then above the quota
// the answer carries the time that brings it back under, during which the
// broker stops reading from the connection. Pure: time is passed in.
//
// Threads: one owner (the Kafka event loop); not synchronized.

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "quota/quota.h"
#include "quota/sampled_rate.h"

namespace dmq::quota {

struct SensorKey {
  Kind kind;
  std::string user;
  std::string client_id;
  auto operator<=>(const SensorKey&) const = default;
};

struct SensorStats {
  double limit = 0;
  double rate = 0;
  uint64_t throttle_time_ms_total = 0;
  uint64_t throttled_requests = 0;
};

class QuotaTracker {
 public:
  explicit QuotaTracker(WindowConfig config = {}) : config_(config) {}

  // Records `value` (bytes, or percent-seconds of a thread for kRequest)
  // against the entity of `quota` and returns the throttle time in ms; 0
  // and nothing recorded when the quota is unlimited.
  int64_t record(Kind kind, const Resolved& quota, double value, int64_t now_ms);
  // The throttle the entity has already earned, without recording (a Fetch
  // is answered empty while its consumer is over its quota).
  int64_t throttle_time_ms(Kind kind, const Resolved& quota, int64_t now_ms) const;
  // Counts a throttle that was applied (the metrics); 0 counts nothing.
  void count_throttle(Kind kind, const Resolved& quota, int64_t throttle_ms);
  // The entity's current rate (0 when it never recorded).
  double rate(Kind kind, const Resolved& quota, int64_t now_ms) const;
  // Forgets entities that recorded nothing for `idle_ms` (Kafka expires its
  // quota sensors after an hour), so client ids that come and go do not grow
  // the table forever.
  void expire(int64_t now_ms, int64_t idle_ms);
  std::vector<std::pair<SensorKey, SensorStats>> stats(int64_t now_ms) const;
  size_t size() const { return sensors_.size(); }

 private:
  struct Sensor {
    explicit Sensor(WindowConfig c) : rate(c) {}
    SampledRate rate;
    double limit = 0;
    uint64_t throttle_time_ms_total = 0;
    uint64_t throttled_requests = 0;
  };
  static SensorKey key_of(Kind kind, const Resolved& quota) {
    return {kind, quota.user_tag, quota.client_tag};
  }

  WindowConfig config_;
  std::map<SensorKey, Sensor> sensors_;
};

// Request time as Kafka's request quota records it: nanoseconds of handling
// to percent-seconds of one thread (1 s of handling per second = 100 %).
inline double nanos_to_percent(int64_t nanos) {
  return static_cast<double>(nanos) * 1e-7;
}

}  // namespace dmq::quota
