#include "kafka/server/quota_gate.h"

#include <algorithm>
#include <chrono>

#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

// Kafka forgets a quota sensor after an hour without traffic.
constexpr int64_t kIdleExpiryMs = 3'600'000;

std::optional<double> broker_default(const Options& options, quota::Kind kind) {
  int64_t v = kind == quota::Kind::kProduce ? options.quota_producer_default
              : kind == quota::Kind::kFetch ? options.quota_consumer_default
                                            : 0;
  if (v <= 0) return std::nullopt;
  return static_cast<double>(v);
}

std::string_view user_of(const Exchange& ex) {
  if (!ex.principal) return "ANONYMOUS";
  std::string_view p = *ex.principal;
  if (p.starts_with("User:")) p.remove_prefix(5);
  return p;
}

}  // namespace

int64_t quota_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

QuotaGate::QuotaGate(const Options& options)
    : options_(options),
      tracker_(quota::WindowConfig{options.quota_window_num,
                                   int64_t{options.quota_window_size_seconds} * 1000}) {}

quota::Resolved QuotaGate::resolve(const cluster::MetadataImage& image, quota::Kind kind,
                                   const Exchange& ex) const {
  auto fallback = broker_default(options_, kind);
  if (ex.cluster_member || (image.client_quotas.empty() && !fallback)) return {};
  const auto& client_id = ex.request.header.client_id;
  return quota::resolve(image.client_quotas, kind, user_of(ex),
                        client_id ? *client_id : std::string_view(), fallback);
}

QuotaGate::Meters& QuotaGate::meters(quota::Kind kind, const quota::Resolved& q) {
  quota::SensorKey key{kind, q.user_tag, q.client_tag};
  auto it = meters_.find(key);
  if (it != meters_.end()) return it->second;
  auto& r = metrics::registry();
  metrics::Labels labels{{"type", std::string(quota::kind_label(kind))},
                         {"user", q.user_tag},
                         {"client_id", q.client_tag}};
  Meters m{&r.counter("dmq_quota_throttle_time_ms_total",
                      "Throttle time given to a quota entity's requests (KIP-219)", labels),
           &r.counter("dmq_quota_throttled_requests_total",
                      "Requests of a quota entity answered with a throttle time", labels),
           &r.gauge("dmq_quota_rate",
                    "A quota entity's measured rate: bytes/s, or percent of a thread for "
                    "type=request",
                    labels),
           &r.gauge("dmq_quota_limit", "The quota a quota entity is measured against", labels)};
  return meters_.emplace(std::move(key), m).first->second;
}

void QuotaGate::apply_throttle(quota::Kind kind, const quota::Resolved& q, int64_t ms,
                               Exchange& ex) {
  if (ms <= 0) return;
  Meters& m = meters(kind, q);
  m.throttle_time_ms->inc(static_cast<double>(ms));
  m.throttled_requests->inc();
  tracker_.count_throttle(kind, q, ms);
  ex.throttle_time_ms = std::max<int32_t>(ex.throttle_time_ms, static_cast<int32_t>(ms));
}

void QuotaGate::record(quota::Kind kind, const quota::Resolved& q, double value, Exchange& ex) {
  if (!q.limit) return;
  const int64_t now = quota_now_ms();
  apply_throttle(kind, q, tracker_.record(kind, q, value, now), ex);
  record_after(kind, q, 0);
}

void QuotaGate::record_after(quota::Kind kind, const quota::Resolved& q, double value) {
  if (!q.limit) return;
  const int64_t now = quota_now_ms();
  if (value > 0) tracker_.record(kind, q, value, now);
  Meters& m = meters(kind, q);
  m.rate->set(tracker_.rate(kind, q, now));
  m.limit->set(*q.limit);
  maybe_expire(now);
}

int64_t QuotaGate::owed(quota::Kind kind, const quota::Resolved& q, Exchange& ex) {
  if (!q.limit) return 0;
  const int64_t ms = tracker_.throttle_time_ms(kind, q, quota_now_ms());
  apply_throttle(kind, q, ms, ex);
  return ms;
}

void QuotaGate::maybe_expire(int64_t now_ms) {
  if (now_ms < next_expiry_ms_) return;
  next_expiry_ms_ = now_ms + 60'000;
  tracker_.expire(now_ms, kIdleExpiryMs);
  // The meters stay: Prometheus counters must not go back to zero.
}

}  // namespace dmq::kafka
