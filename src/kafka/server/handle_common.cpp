#include <algorithm>

#include "kafka/server/handlers.h"
#include "kafka/server/listener.h"

namespace dmq::kafka {

bool valid_topic_name(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

ErrorCode check_leader_epoch(const cluster::MetadataImage& image, std::string_view topic,
                             int32_t partition, int32_t current_leader_epoch) {
  if (current_leader_epoch < 0) return ErrorCode::kNone;
  auto it = image.topics.find(topic);
  if (it == image.topics.end() || partition < 0 ||
      partition >= static_cast<int32_t>(it->second.partitions.size()))
    return ErrorCode::kNone;
  int32_t epoch = it->second.partitions[static_cast<size_t>(partition)].leader_epoch.value;
  if (current_leader_epoch < epoch) return ErrorCode::kFencedLeaderEpoch;
  if (current_leader_epoch > epoch) return ErrorCode::kUnknownLeaderEpoch;
  return ErrorCode::kNone;
}

ErrorCode admin_error(const broker::AdminResult& result) {
  if (result.ok()) return ErrorCode::kNone;
  const std::string& c = result.code;
  if (c == "topic_exists") return ErrorCode::kTopicAlreadyExists;
  if (c == "invalid_topic_name") return ErrorCode::kInvalidTopicException;
  if (c == "invalid_partitions") return ErrorCode::kInvalidPartitions;
  if (c == "invalid_replication_factor" || c == "not_enough_brokers")
    return ErrorCode::kInvalidReplicationFactor;
  if (c == "unknown_topic" || c == "unknown_partition" || c == "not_found")
    return ErrorCode::kUnknownTopicOrPartition;
  if (c == "invalid_replica_assignment") return ErrorCode::kInvalidReplicaAssignment;
  if (c == "invalid_config") return ErrorCode::kInvalidConfig;
  if (c == "invalid_request") return ErrorCode::kInvalidRequest;
  if (c == "invalid_acl" || c == "malformed") return ErrorCode::kInvalidRequest;
  if (c == "security_disabled") return ErrorCode::kSecurityDisabled;
  // The controller refused this node's signed request (rest/rest_auth.h).
  if (c == "unauthorized" || c == "forbidden") return ErrorCode::kClusterAuthorizationFailed;
  return ErrorCode::kRequestTimedOut;
}

std::vector<std::pair<std::string, std::string>> topic_config_defaults(const Options& o) {
  return {
      {"cleanup.policy", "delete"},
      {"compression.type", "producer"},
      {"max.message.bytes", std::to_string(o.message_max_bytes)},
      {"message.timestamp.type", "CreateTime"},
      {"min.insync.replicas", std::to_string(o.min_insync_replicas)},
      {"retention.bytes", std::to_string(o.retention_bytes)},
      {"retention.ms", std::to_string(o.retention_ms)},
      {"segment.bytes", std::to_string(o.segment_bytes)},
      {"segment.ms", std::to_string(o.segment_ms)},
  };
}

std::string topic_config(const Options& options, const cluster::TopicState* topic,
                         const std::string& name) {
  if (topic) {
    auto it = topic->configs.find(name);
    if (it != topic->configs.end()) return it->second;
  }
  for (auto& [k, v] : topic_config_defaults(options))
    if (k == name) return v;
  return "";
}

const HostPort& advertised_address(const Options& options, const Exchange& ex) {
  return ex.listener ? ex.listener->advertised : options.advertised_kafka;
}

std::string_view listener_name_of(const Exchange& ex) {
  return ex.listener ? std::string_view(ex.listener->listener.name) : std::string_view();
}

std::vector<BrokerAddress> live_brokers(const HandlerContext& ctx,
                                        const cluster::MetadataImage& image,
                                        const HostPort* self_address,
                                        std::string_view listener_name) {
  std::vector<BrokerAddress> out;
  bool self_listed = false;
  const int32_t self = ctx.backend.node_id().value;
  const HostPort& a = self_address ? *self_address : ctx.options.advertised_kafka;
  for (const auto& [id, b] : image.brokers) {
    if (b.fenced) continue;
    if (id.value == self) {
      // The registration names the first listener; a client on another
      // listener must be sent back to that one (SASL_SSL stays SASL_SSL).
      out.push_back(BrokerAddress{id.value, a.host, a.port, b.rack});
      self_listed = true;
      continue;
    }
    auto same =
        std::find_if(b.listeners.begin(), b.listeners.end(),
                     [&](const cluster::BrokerListener& l) { return l.name == listener_name; });
    if (same != b.listeners.end()) {
      out.push_back(BrokerAddress{id.value, same->host, same->port, b.rack});
    } else {
      out.push_back(BrokerAddress{id.value, b.kafka_host, b.kafka_port, b.rack});
    }
  }
  if (!self_listed) {
    // This broker is answering, so it is reachable even if its registration
    // has not reached the image yet (or it is still fenced at start-up).
    out.push_back(BrokerAddress{self, a.host, a.port, ""});
    std::sort(out.begin(), out.end(),
              [](const BrokerAddress& x, const BrokerAddress& y) { return x.id < y.id; });
  }
  return out;
}

const cluster::TopicState* find_topic_by_id(const cluster::MetadataImage& image, const Uuid& id) {
  if (id.is_zero()) return nullptr;
  for (const auto& [name, topic] : image.topics)
    if (topic_uuid(topic.topic_id) == id) return &topic;
  return nullptr;
}

Uuid topic_uuid(std::string_view text) {
  Uuid out;
  size_t n = 0;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-') continue;
    int hi = nibble(text[i]);
    int lo = i + 1 < text.size() ? nibble(text[i + 1]) : -1;
    if (hi < 0 || lo < 0 || n == out.bytes.size()) return Uuid{};
    out.bytes[n++] = static_cast<uint8_t>(hi * 16 + lo);
    ++i;
  }
  return n == out.bytes.size() ? out : Uuid{};
}

}  // namespace dmq::kafka
