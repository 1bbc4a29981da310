#include "quota/quota_tracker.h"

namespace dmq::quota {

int64_t QuotaTracker::record(Kind kind, const Resolved& quota, double value, int64_t now_ms) {
  if (!quota.limit) return 0;
  auto it = sensors_.try_emplace(key_of(kind, quota), config_).first;
  Sensor& sensor = it->second;
  sensor.limit = *quota.limit;
  sensor.rate.record(value, now_ms);
  return sensor.rate.throttle_time_ms(*quota.limit, now_ms);
}

int64_t QuotaTracker::throttle_time_ms(Kind kind, const Resolved& quota, int64_t now_ms) const {
  if (!quota.limit) return 0;
  auto it = sensors_.find(key_of(kind, quota));
  if (it == sensors_.end()) return 0;
  return it->second.rate.throttle_time_ms(*quota.limit, now_ms);
}

double QuotaTracker::rate(Kind kind, const Resolved& quota, int64_t now_ms) const {
  auto it = sensors_.find(key_of(kind, quota));
  return it == sensors_.end() ? 0 : it->second.rate.rate(now_ms);
}

void QuotaTracker::count_throttle(Kind kind, const Resolved& quota, int64_t throttle_ms) {
  if (!quota.limit || throttle_ms <= 0) return;
  auto it = sensors_.find(key_of(kind, quota));
  if (it == sensors_.end()) return;
  it->second.throttle_time_ms_total += static_cast<uint64_t>(throttle_ms);
  it->second.throttled_requests += 1;
}

void QuotaTracker::expire(int64_t now_ms, int64_t idle_ms) {
  for (auto it = sensors_.begin(); it != sensors_.end();) {
    if (now_ms - it->second.rate.last_record_ms() > idle_ms)
      it = sensors_.erase(it);
    else
      ++it;
  }
}

std::vector<std::pair<SensorKey, SensorStats>> QuotaTracker::stats(int64_t now_ms) const {
  std::vector<std::pair<SensorKey, SensorStats>> out;
  out.reserve(sensors_.size());
  for (const auto& [key, s] : sensors_)
    out.push_back(
        {key, {s.limit, s.rate.rate(now_ms), s.throttle_time_ms_total, s.throttled_requests}});
  return out;
}

}  // namespace dmq::quota
