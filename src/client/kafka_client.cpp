#include "client/kafka_client.h"

#include <chrono>
#include <thread>

namespace dmq::client {

using kafka::ErrorCode;

KafkaClient::KafkaClient(ClientConfig config) : config_(std::move(config)) {
  if (config_.bootstrap.empty()) throw usage_error("--brokers is empty");
}

Connection KafkaClient::open_any() {
  std::string last_error;
  for (const auto& address : config_.bootstrap) {
    try {
      return Connection::open(address, config_.request_timeout_ms);
    } catch (const ClientError& e) {
      last_error = e.what();
    }
  }
  // Brokers learned from Metadata are a second chance when a bootstrap
  // broker has gone away since.
  for (const auto& [id, broker] : map_.brokers()) {
    try {
      return Connection::open(broker.address, config_.request_timeout_ms);
    } catch (const ClientError& e) {
      last_error = e.what();
    }
  }
  throw ClientError(last_error.empty() ? "no broker reachable" : last_error);
}

Connection& KafkaClient::connection(int32_t node) {
  auto it = connections_.find(node);
  if (it != connections_.end() && it->second.is_open()) return it->second;
  if (node == kAnyBroker) return connections_[node] = open_any();
  auto address = map_.broker_address(node);
  if (!address) throw ClientError("broker " + std::to_string(node) + " is not in the metadata");
  return connections_[node] = Connection::open(*address, config_.request_timeout_ms);
}

std::string KafkaClient::exchange(int32_t node, const kafka::EncodedFrame& frame) {
  // An idle connection may have been closed by the broker (or the broker
  // restarted): one fresh connection is tried before giving up.
  for (int attempt = 0;; ++attempt) {
    try {
      Connection& c = connection(node);
      c.send(frame);
      return c.receive();
    } catch (const ClientError& e) {
      connections_.erase(node);
      if (attempt >= 1) throw BrokerUnavailable(e.what());
    }
  }
}

void KafkaClient::check_correlation(int32_t node, int32_t expected, int32_t got) {
  if (expected == got) return;
  connections_.erase(node);
  throw ClientError("broker " + std::to_string(node) + " answered correlation id " +
                    std::to_string(got) + ", expected " + std::to_string(expected));
}

void KafkaClient::decode_failed(int32_t node, kafka::CodecError error) {
  connections_.erase(node);
  throw ClientError("undecodable answer from broker " + std::to_string(node) + ": " +
                    std::string(kafka::codec_error_name(error)));
}

const ClusterMap& KafkaClient::refresh_metadata(const std::vector<std::string>& topics) {
  kafka::MetadataRequest request;
  request.allow_auto_topic_creation = false;
  if (!topics.empty()) {
    request.topics.emplace();
    for (const auto& t : topics) request.topics->push_back({kafka::Uuid{}, std::string_view(t)});
  }
  auto response = call<kafka::MetadataResponse>(kAnyBroker, versions::kMetadata, request);
  map_.update(response, topics.empty());
  return map_;
}

const TopicInfo& KafkaClient::wait_for_topic(const std::string& name) {
  for (int attempt = 1;; ++attempt) {
    refresh_metadata({name});
    const TopicInfo* t = map_.topic(name);
    if (t == nullptr || t->error == ErrorCode::kUnknownTopicOrPartition) {
      throw ClientError("topic '" + name + "' does not exist");
    }
    bool ready = t->error == ErrorCode::kNone && !t->partitions.empty();
    for (const auto& p : t->partitions) ready = ready && map_.leader_of(name, p.index).has_value();
    if (ready) return *t;
    if (t->error != ErrorCode::kNone && !is_retriable_error(t->error)) {
      throw ClientError("topic '" + name + "': " + kafka_error_name(t->error));
    }
    backoff(attempt, "leaders of topic '" + name + "'");
  }
}

int32_t KafkaClient::coordinator(const std::string& group, bool refresh) {
  auto cached = coordinators_.find(group);
  if (!refresh && cached != coordinators_.end()) return cached->second;
  kafka::FindCoordinatorRequest request;
  request.key = group;
  for (int attempt = 1;; ++attempt) {
    auto r = call<kafka::FindCoordinatorResponse>(kAnyBroker, versions::kFindCoordinator, request);
    if (r.error_code == ErrorCode::kNone) {
      if (!map_.broker_address(r.node_id)) refresh_metadata({});
      if (!map_.broker_address(r.node_id)) {
        throw ClientError("coordinator " + std::to_string(r.node_id) + " of group '" + group +
                          "' is not in the metadata");
      }
      coordinators_[group] = r.node_id;
      return r.node_id;
    }
    if (!is_retriable_error(r.error_code)) {
      throw ClientError("FindCoordinator for group '" + group +
                        "': " + kafka_error_name(r.error_code));
    }
    backoff(attempt, "the coordinator of group '" + group + "'");
  }
}

void KafkaClient::backoff(int attempt, const std::string& what) {
  if (attempt > config_.retries) throw ClientError("gave up waiting for " + what);
  // Linear growth capped at one second keeps a leader election (a few
  // hundred ms) well inside the default 30 retries.
  int ms = std::min(config_.retry_backoff_ms * attempt, 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace dmq::client
