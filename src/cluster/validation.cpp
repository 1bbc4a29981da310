#include "cluster/validation.h"

#include <algorithm>
#include <string>

namespace dmq::cluster {

Status validate_topic_name(std::string_view name) {
  if (name.empty()) return Error{ErrorCode::kInvalidTopicName, "topic name is empty"};
  if (name.size() > kMaxTopicNameLength) {
    return Error{ErrorCode::kInvalidTopicName, "topic name is " + std::to_string(name.size()) +
                                                   " characters; the limit is " +
                                                   std::to_string(kMaxTopicNameLength)};
  }
  if (name == "." || name == "..") {
    return Error{ErrorCode::kInvalidTopicName, "topic name cannot be \".\" or \"..\""};
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Error{ErrorCode::kInvalidTopicName,
                   "topic name may contain only ASCII letters, digits, '.', '_' and '-'"};
    }
  }
  return {};
}

Status validate_partition_count(int64_t partitions) {
  if (partitions < 1 || partitions > kMaxPartitions) {
    return Error{ErrorCode::kInvalidPartitions, "partitions must be between 1 and " +
                                                    std::to_string(kMaxPartitions) + ", got " +
                                                    std::to_string(partitions)};
  }
  return {};
}

Status validate_replication_factor(int64_t replication_factor, size_t available_brokers) {
  if (replication_factor < 1) {
    return Error{
        ErrorCode::kInvalidReplicationFactor,
        "replication factor must be at least 1, got " + std::to_string(replication_factor)};
  }
  if (static_cast<uint64_t>(replication_factor) > available_brokers) {
    return Error{ErrorCode::kNotEnoughBrokers,
                 "replication factor " + std::to_string(replication_factor) + " exceeds the " +
                     std::to_string(available_brokers) + " available brokers"};
  }
  return {};
}

Status validate_replica_list(const std::vector<BrokerId>& replicas) {
  if (replicas.empty()) return Error{ErrorCode::kInvalidRequest, "empty replica list"};
  std::vector<BrokerId> sorted = replicas;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.front().value < 0) return Error{ErrorCode::kInvalidRequest, "negative broker id"};
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Error{ErrorCode::kInvalidRequest, "duplicate broker in replica list"};
  }
  return {};
}

}  // namespace dmq::cluster
