#pragma once
// Metrics of the Kafka listener, registered once per process in the global
// registry (GET /metrics). Updates are lock-free; lookups by API key happen
// on the loop thread only.

#include <map>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "kafka/protocol/api.h"
#include "kafka/protocol/error_code.h"

namespace dmq::kafka {

class ServerMetrics {
 public:
  ServerMetrics();
  // One request of `api` answered with `error` after `seconds`.
  void record_request(int16_t api, ErrorCode error, double seconds);
  metrics::Gauge& connections_open;
  metrics::Counter& connections_accepted;
  metrics::Counter& connections_closed_bad_input;
  metrics::Counter& connections_refused_total;   // over max.connections
  metrics::Counter& connections_refused_per_ip;  // over max.connections.per.ip
  metrics::Gauge& queued_request_bytes;          // queued.max.request.bytes in use
  metrics::Gauge& queued_request_bytes_peak;
  metrics::Counter& reading_paused_for_queued_bytes;
  metrics::Counter& reading_paused_for_unsent_bytes;
  metrics::Counter& tls_handshake_failures;
  metrics::Counter& sasl_authentications;
  metrics::Counter& sasl_authentication_failures;
  metrics::Counter& sasl_sessions_expired;
  metrics::Counter& produce_bytes;
  metrics::Counter& produce_batches;
  metrics::Counter& fetch_bytes;

  struct TopicCounters {
    metrics::Counter* bytes_in;
    metrics::Counter* messages_in;
    metrics::Counter* bytes_out;
  };
  // Per-topic traffic (created on first use; loop thread only).
  TopicCounters& topic(std::string_view name);

 private:
  std::map<std::pair<int16_t, int16_t>, metrics::Counter*> requests_;
  std::map<int16_t, metrics::Histogram*> latency_;
  std::map<std::string, TopicCounters, std::less<>> topics_;
};

// The process-wide instance (metric names must be registered once).
ServerMetrics& server_metrics();

}  // namespace dmq::kafka
