#include "kafka/server/server_metrics.h"

namespace dmq::kafka {
namespace {

std::string api_label(int16_t api) {
  const ApiInfo* info = find_api(api);
  return info ? std::string(info->name) : "unknown";
}

}  // namespace

ServerMetrics::ServerMetrics()
    : connections_open(
          metrics::registry().gauge("dmq_kafka_connections_open", "Open Kafka client connections")),
      connections_accepted(metrics::registry().counter("dmq_kafka_connections_accepted_total",
                                                       "Kafka connections accepted")),
      connections_closed_bad_input(metrics::registry().counter(
          "dmq_kafka_connections_closed_bad_input_total",
          "Kafka connections closed for malformed, oversized or unknown requests")),
      connections_refused_total(metrics::registry().counter(
          "dmq_kafka_connections_refused_total", "Kafka connections closed on accept over a limit",
          {{"limit", "max.connections"}})),
      connections_refused_per_ip(metrics::registry().counter(
          "dmq_kafka_connections_refused_total", "Kafka connections closed on accept over a limit",
          {{"limit", "max.connections.per.ip"}})),
      queued_request_bytes(metrics::registry().gauge(
          "dmq_kafka_queued_request_bytes",
          "Bytes of Kafka requests read but not yet answered (queued.max.request.bytes)")),
      queued_request_bytes_peak(
          metrics::registry().gauge("dmq_kafka_queued_request_bytes_peak",
                                    "The most Kafka request bytes read but not yet answered")),
      reading_paused_for_queued_bytes(metrics::registry().counter(
          "dmq_kafka_reading_paused_total", "Times a connection stopped reading",
          {{"reason", "queued.max.request.bytes"}})),
      reading_paused_for_unsent_bytes(metrics::registry().counter(
          "dmq_kafka_reading_paused_total", "Times a connection stopped reading",
          {{"reason", "unsent_response_bytes"}})),
      tls_handshake_failures(metrics::registry().counter(
          "dmq_kafka_tls_handshake_failures_total",
          "TLS handshakes that failed (plaintext clients, bad certificates)")),
      sasl_authentications(metrics::registry().counter("dmq_kafka_sasl_authentications_total",
                                                       "Successful SASL authentications")),
      sasl_authentication_failures(
          metrics::registry().counter("dmq_kafka_sasl_authentication_failures_total",
                                      "Failed SASL authentications (the connection is closed)")),
      sasl_sessions_expired(metrics::registry().counter(
          "dmq_kafka_sasl_sessions_expired_total",
          "Connections closed because their SASL session expired (KIP-368)")),
      produce_bytes(metrics::registry().counter("dmq_kafka_produce_bytes_total",
                                                "Record batch bytes appended by Produce")),
      produce_batches(metrics::registry().counter("dmq_kafka_produce_batches_total",
                                                  "Record batches appended by Produce")),
      fetch_bytes(metrics::registry().counter("dmq_kafka_fetch_bytes_total",
                                              "Record bytes returned by Fetch")) {}

void ServerMetrics::record_request(int16_t api, ErrorCode error, double seconds) {
  auto key = std::make_pair(api, to_wire(error));
  auto it = requests_.find(key);
  if (it == requests_.end()) {
    auto& c = metrics::registry().counter(
        "dmq_kafka_requests_total", "Kafka requests answered, by API and first error code",
        {{"api", api_label(api)}, {"error", std::string(error_name(error))}});
    it = requests_.emplace(key, &c).first;
  }
  it->second->inc();
  auto lt = latency_.find(api);
  if (lt == latency_.end()) {
    auto& h = metrics::registry().histogram(
        "dmq_kafka_request_seconds", "Kafka request latency from frame read to answer",
        metrics::latency_buckets_seconds(), {{"api", api_label(api)}});
    lt = latency_.emplace(api, &h).first;
  }
  lt->second->observe(seconds);
}

ServerMetrics::TopicCounters& ServerMetrics::topic(std::string_view name) {
  auto it = topics_.find(name);
  if (it != topics_.end()) return it->second;
  auto& r = metrics::registry();
  metrics::Labels labels{{"topic", std::string(name)}};
  TopicCounters c{
      &r.counter("dmq_kafka_topic_bytes_in_total", "Record batch bytes produced, by topic", labels),
      &r.counter("dmq_kafka_topic_messages_in_total", "Records produced, by topic", labels),
      &r.counter("dmq_kafka_topic_bytes_out_total", "Record bytes fetched, by topic", labels)};
  return topics_.emplace(std::string(name), c).first->second;
}

ServerMetrics& server_metrics() {
  static ServerMetrics instance;
  return instance;
}

}  // namespace dmq::kafka
