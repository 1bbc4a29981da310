#pragma once
// Client quotas on the Kafka port (KIP-13, KIP-55, KIP-124, KIP-219): which
// quota applies to a request's sender (the metadata image's client quotas,
// then --quota.producer.default / --quota.consumer.default), the usage
// measured against it, and the throttle time it earns. A throttle time
// raises Exchange::throttle_time_ms: make_response writes it into the
// answer's throttle_time_ms, and the connection stops reading for that long
// once the answer is complete (the channel is muted, KIP-219).
//
//   produce: the bytes of the request's record batches, recorded when the
//            Produce arrives; the data is appended all the same (Kafka
//            throttles after the fact).
//   fetch:   the bytes answered to a consumer, recorded with the answer; a
//            consumer already over its quota gets an empty answer at once.
//            Replica fetches are exempt.
//   request: time spent handling the sender's requests on the loop, in
//            percent of one thread; checked when a request arrives.
//
// Requests from cluster members (followers, node-signed traffic) are exempt.
// Threads: the event loop only.

#include <cstdint>
#include <map>
#include <string>

#include "cluster/metadata_image.h"
#include "common/metrics.h"
#include "common/options.h"
#include "quota/quota_tracker.h"

namespace dmq::kafka {

struct Exchange;

class QuotaGate {
 public:
  explicit QuotaGate(const Options& options);

  // The quota of `kind` for the sender of `ex`: its user (the principal's
  // name, "ANONYMOUS" without authentication) and client id. Unlimited for
  // cluster members and when no quota applies.
  quota::Resolved resolve(const cluster::MetadataImage& image, quota::Kind kind,
                          const Exchange& ex) const;
  // Records `value` and raises ex.throttle_time_ms to the throttle earned.
  void record(quota::Kind kind, const quota::Resolved& quota, double value, Exchange& ex);
  // Raises ex.throttle_time_ms to what the entity already owes; returns it.
  int64_t owed(quota::Kind kind, const quota::Resolved& quota, Exchange& ex);
  // Records without throttling `ex` (its answer may be gone already): the
  // sender's next request pays.
  void record_after(quota::Kind kind, const quota::Resolved& quota, double value);

 private:
  struct Meters {
    metrics::Counter* throttle_time_ms;
    metrics::Counter* throttled_requests;
    metrics::Gauge* rate;
    metrics::Gauge* limit;
  };
  Meters& meters(quota::Kind kind, const quota::Resolved& quota);
  void apply_throttle(quota::Kind kind, const quota::Resolved& quota, int64_t ms, Exchange& ex);
  void maybe_expire(int64_t now_ms);

  const Options& options_;
  quota::QuotaTracker tracker_;
  std::map<quota::SensorKey, Meters> meters_;
  int64_t next_expiry_ms_ = 0;
};

// Milliseconds of a monotonic clock (the quota windows' time base).
int64_t quota_now_ms();

}  // namespace dmq::kafka
