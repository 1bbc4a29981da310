#pragma once
// A rate over a sliding window of samples, as Kafka's metrics measure it
// (org.apache.kafka.common.metrics.stats.Rate over SampledStat): `samples`
// windows of `window_ms` each (quota.window.num = 11, quota.window.size.seconds
// = 1); the oldest is dropped as time moves on. Pure: time is passed in.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dmq::quota {

struct WindowConfig {
  int samples = 11;
  int64_t window_ms = 1000;
};

class SampledRate {
 public:
  explicit SampledRate(WindowConfig config = {});

  void record(double value, int64_t now_ms);
  // Units per second: the sum of the live samples over the time they span,
  // at least (samples - 1) windows so a first burst is not divided by ~0 s.
  double rate(int64_t now_ms) const;
  // The span rate() divides by, in ms.
  int64_t window_size_ms(int64_t now_ms) const;
  // KIP-219: the time that brings the rate back to `quota` if nothing more is
  // recorded: (rate - quota) / quota x window size; 0 when within the quota.
  // Capped at the whole window (samples x window_ms), as a burst larger than
  // that is already paid for by the time the window forgets it.
  int64_t throttle_time_ms(double quota, int64_t now_ms) const;
  // The last time a value was recorded (idle sensors are dropped).
  int64_t last_record_ms() const { return last_record_ms_; }

 private:
  struct Sample {
    int64_t start_ms = 0;
    double value = 0;
    bool used = false;
  };
  Sample& current(int64_t now_ms);
  bool live(const Sample& s, int64_t now_ms) const;

  WindowConfig config_;
  std::vector<Sample> samples_;
  size_t current_ = 0;
  int64_t last_record_ms_ = 0;
};

}  // namespace dmq::quota
