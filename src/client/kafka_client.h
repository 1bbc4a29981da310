#pragma once
// A small synchronous Kafka client over DMQ's own codec (kafka/protocol): it
// bootstraps from a list of brokers, keeps a ClusterMap from Metadata, opens
// one connection per broker on demand, and finds group coordinators. Routing
// and retry decisions (which errors mean "refresh and retry") live in
// cluster_map.h; this class is the I/O around them.
//
// Single-threaded. Every network failure or undecodable answer is a
// ClientError naming the broker; Kafka error codes inside answers are left to
// the caller, who knows which are fatal for its command.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/cluster_map.h"
#include "client/connection.h"
#include "client/error.h"
#include "kafka/protocol/request.h"

namespace dmq::client {

// The API versions the client speaks: inside DMQ's ranges (api.h) and old
// enough for Kafka 2.8+ brokers.
namespace versions {
constexpr int16_t kMetadata = 9;
constexpr int16_t kProduce = 8;
constexpr int16_t kFetch = 11;
constexpr int16_t kListOffsets = 5;
constexpr int16_t kCreateTopics = 5;
constexpr int16_t kDeleteTopics = 4;
constexpr int16_t kDeleteRecords = 2;
constexpr int16_t kDescribeConfigs = 4;
constexpr int16_t kFindCoordinator = 3;
constexpr int16_t kOffsetCommit = 7;
constexpr int16_t kOffsetFetch = 7;
constexpr int16_t kListGroups = 3;
constexpr int16_t kDescribeGroups = 5;
constexpr int16_t kDeleteGroups = 2;
}  // namespace versions

struct ClientConfig {
  std::vector<HostPort> bootstrap;
  std::string client_id = "dmq-cli";
  int request_timeout_ms = 15000;
  int retries = 30;  // metadata refreshes before giving up on a leader
  int retry_backoff_ms = 100;
};

// Send to any reachable broker (the bootstrap list first).
constexpr int32_t kAnyBroker = -1;

class KafkaClient {
 public:
  explicit KafkaClient(ClientConfig config);

  // Sends `request` to broker `node` and waits for its answer. With
  // `frame_out`, the response frame is kept there (Fetch records view it).
  // A connection that fails is reopened once before the error surfaces.
  template <class Resp, class Req>
  Resp call(int32_t node, int16_t version, const Req& request, std::string* frame_out = nullptr);

  // Pipelining (bench): send now, receive later, in order, on the same node.
  template <class Req>
  int32_t send(int32_t node, int16_t version, const Req& request);
  template <class Resp>
  Resp receive(int32_t node, int16_t version, int32_t correlation_id);

  // Metadata for `topics` (empty: all topics). Auto-creation stays off: a
  // typo must not create a topic.
  const ClusterMap& refresh_metadata(const std::vector<std::string>& topics);
  const ClusterMap& cluster() const { return map_; }

  // The topic with a leader for every partition, refreshing the metadata (with
  // backoff) while leaders are being elected. Throws for an unknown topic.
  const TopicInfo& wait_for_topic(const std::string& name);

  // The coordinator of `group` (FindCoordinator), cached unless `refresh`.
  int32_t coordinator(const std::string& group, bool refresh = false);

  // Sends a group request to the coordinator of `group` and returns the answer
  // once `error_of(answer)` is kNone or an error not worth retrying. While the
  // coordinator moves (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ...) or
  // cannot be reached, it is looked up again after a backoff.
  template <class Resp, class Req, class ErrorOf>
  Resp call_coordinator(const std::string& group, int16_t version, const Req& request,
                        ErrorOf error_of);

  // Sleeps before retry `attempt` (1-based); throws once `config.retries` is spent.
  void backoff(int attempt, const std::string& what);

  const ClientConfig& config() const { return config_; }

 private:
  Connection& connection(int32_t node);
  Connection open_any();
  std::string exchange(int32_t node, const kafka::EncodedFrame& frame);
  void check_correlation(int32_t node, int32_t expected, int32_t got);
  [[noreturn]] void decode_failed(int32_t node, kafka::CodecError error);

  ClientConfig config_;
  ClusterMap map_;
  std::map<int32_t, Connection> connections_;
  std::map<std::string, int32_t> coordinators_;
  int32_t next_correlation_id_ = 1;
};

// ---- template definitions ------------------------------------------------------

template <class Resp, class Req>
Resp KafkaClient::call(int32_t node, int16_t version, const Req& request, std::string* frame_out) {
  int32_t id = next_correlation_id_++;
  auto frame = kafka::encode_request(version, id, config_.client_id, request);
  std::string local;
  std::string& bytes = frame_out != nullptr ? *frame_out : local;
  bytes = exchange(node, frame);
  Resp out;
  int32_t got = 0;
  kafka::CodecError e = kafka::decode_response(bytes, version, got, out);
  if (e != kafka::CodecError::kOk) decode_failed(node, e);
  check_correlation(node, id, got);
  return out;
}

template <class Resp, class Req, class ErrorOf>
Resp KafkaClient::call_coordinator(const std::string& group, int16_t version, const Req& request,
                                   ErrorOf error_of) {
  for (int attempt = 1;; ++attempt) {
    try {
      int32_t node = coordinator(group, attempt > 1);
      Resp response = call<Resp>(node, version, request);
      kafka::ErrorCode error = error_of(response);
      if (error == kafka::ErrorCode::kNone || !is_retriable_error(error)) return response;
    } catch (const BrokerUnavailable&) {
      // The coordinator died; another broker takes its partition over.
    }
    backoff(attempt, "the coordinator of group '" + group + "'");
  }
}

template <class Req>
int32_t KafkaClient::send(int32_t node, int16_t version, const Req& request) {
  int32_t id = next_correlation_id_++;
  connection(node).send(kafka::encode_request(version, id, config_.client_id, request));
  return id;
}

template <class Resp>
Resp KafkaClient::receive(int32_t node, int16_t version, int32_t correlation_id) {
  std::string bytes = connection(node).receive();
  Resp out;
  int32_t got = 0;
  kafka::CodecError e = kafka::decode_response(bytes, version, got, out);
  if (e != kafka::CodecError::kOk) decode_failed(node, e);
  check_correlation(node, correlation_id, got);
  return out;
}

}  // namespace dmq::client
