#include "client/cluster_map.h"

#include <algorithm>
#include <cctype>

namespace dmq::client {

using kafka::ErrorCode;

void ClusterMap::update(const kafka::MetadataResponse& response, bool all_topics) {
  brokers_.clear();
  for (const auto& b : response.brokers) {
    brokers_[b.node_id] =
        BrokerInfo{b.node_id, HostPort{b.host, static_cast<uint16_t>(b.port)}, b.rack};
  }
  controller_id_ = response.controller_id;
  if (response.cluster_id) cluster_id_ = *response.cluster_id;
  if (all_topics) topics_.clear();
  for (const auto& t : response.topics) {
    if (!t.name) continue;
    TopicInfo info{*t.name, t.error_code, t.is_internal, {}};
    for (const auto& p : t.partitions) {
      info.partitions.push_back(PartitionInfo{p.partition_index, p.leader_id, p.leader_epoch,
                                              p.replica_nodes, p.isr_nodes, p.error_code});
    }
    std::sort(info.partitions.begin(), info.partitions.end(),
              [](const auto& a, const auto& b) { return a.index < b.index; });
    topics_[info.name] = std::move(info);
  }
}

const TopicInfo* ClusterMap::topic(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

std::optional<HostPort> ClusterMap::broker_address(int32_t id) const {
  auto it = brokers_.find(id);
  if (it == brokers_.end()) return std::nullopt;
  return it->second.address;
}

std::optional<int32_t> ClusterMap::leader_of(const std::string& topic, int32_t partition) const {
  const TopicInfo* t = this->topic(topic);
  if (t == nullptr || t->error != ErrorCode::kNone) return std::nullopt;
  for (const auto& p : t->partitions) {
    if (p.index != partition) continue;
    // A leader the response does not list as a broker cannot be reached yet.
    if (p.leader < 0 || brokers_.count(p.leader) == 0) return std::nullopt;
    return p.leader;
  }
  return std::nullopt;
}

std::map<int32_t, std::vector<int32_t>> ClusterMap::by_leader(
    const std::string& topic, const std::vector<int32_t>& partitions,
    std::vector<int32_t>* leaderless) const {
  std::map<int32_t, std::vector<int32_t>> out;
  for (int32_t p : partitions) {
    auto leader = leader_of(topic, p);
    if (leader) {
      out[*leader].push_back(p);
    } else if (leaderless != nullptr) {
      leaderless->push_back(p);
    }
  }
  return out;
}

bool is_stale_metadata_error(ErrorCode error) {
  switch (error) {
    case ErrorCode::kNotLeaderOrFollower:
    case ErrorCode::kLeaderNotAvailable:
    case ErrorCode::kFencedLeaderEpoch:
    case ErrorCode::kUnknownLeaderEpoch:
    case ErrorCode::kReplicaNotAvailable:
    case ErrorCode::kUnknownTopicOrPartition:  // a new topic not yet on every broker
    case ErrorCode::kBrokerNotAvailable:
      return true;
    default:
      return false;
  }
}

bool is_coordinator_error(ErrorCode error) {
  return error == ErrorCode::kNotCoordinator || error == ErrorCode::kCoordinatorNotAvailable;
}

bool is_retriable_error(ErrorCode error) {
  switch (error) {
    case ErrorCode::kRequestTimedOut:
    case ErrorCode::kNotEnoughReplicas:
    case ErrorCode::kNotEnoughReplicasAfterAppend:
    case ErrorCode::kCoordinatorLoadInProgress:
    case ErrorCode::kNetworkException:
      return true;
    default:
      return is_stale_metadata_error(error) || is_coordinator_error(error);
  }
}

std::string kafka_error_name(ErrorCode error) {
  std::string_view name = kafka::error_name(error);
  if (name.size() > 1 && name[0] == 'k') name.remove_prefix(1);
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c))) out.push_back('_');
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace dmq::client
