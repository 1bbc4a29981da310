#include "quota/sampled_rate.h"

#include <algorithm>
#include <cmath>

#include "common/assert.h"

namespace dmq::quota {

SampledRate::SampledRate(WindowConfig config) : config_(config) {
  DMQ_ASSERT(config_.samples >= 1);
  DMQ_ASSERT(config_.window_ms >= 1);
  samples_.resize(static_cast<size_t>(config_.samples));
}

bool SampledRate::live(const Sample& s, int64_t now_ms) const {
  return s.used && now_ms - s.start_ms < config_.samples * config_.window_ms;
}

SampledRate::Sample& SampledRate::current(int64_t now_ms) {
  Sample* s = &samples_[current_];
  if (!s->used || now_ms - s->start_ms >= config_.window_ms) {
    if (s->used) {
      current_ = (current_ + 1) % samples_.size();
      s = &samples_[current_];
    }
    *s = Sample{now_ms, 0, true};
  }
  return *s;
}

void SampledRate::record(double value, int64_t now_ms) {
  current(now_ms).value += value;
  last_record_ms_ = now_ms;
}

int64_t SampledRate::window_size_ms(int64_t now_ms) const {
  int64_t oldest = now_ms;
  for (const Sample& s : samples_)
    if (live(s, now_ms)) oldest = std::min(oldest, s.start_ms);
  int64_t elapsed = now_ms - oldest;
  // Kafka's Rate.windowSize: count at least samples - 1 full windows.
  const int64_t min_ms = (config_.samples - 1) * config_.window_ms;
  return std::max({elapsed, min_ms, int64_t{1}});
}

double SampledRate::rate(int64_t now_ms) const {
  double total = 0;
  for (const Sample& s : samples_)
    if (live(s, now_ms)) total += s.value;
  return total * 1000.0 / static_cast<double>(window_size_ms(now_ms));
}

int64_t SampledRate::throttle_time_ms(double quota, int64_t now_ms) const {
  DMQ_ASSERT(quota > 0);
  const double observed = rate(now_ms);
  if (observed <= quota) return 0;
  const double ms = (observed - quota) / quota * static_cast<double>(window_size_ms(now_ms));
  const int64_t cap = config_.samples * config_.window_ms;
  return std::min(cap, static_cast<int64_t>(std::llround(ms)));
}

}  // namespace dmq::quota
