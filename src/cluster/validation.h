#pragma once
// Pure checks of user input for topics, shared by the controller (before it
// proposes) and the state machine (which re-checks at apply time, since a
// record may come from a buggy or older proposer). No I/O; any thread.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/error.h"
#include "cluster/types.h"

namespace dmq::cluster {

inline constexpr size_t kMaxTopicNameLength = 249;  // Kafka's limit
inline constexpr int64_t kMaxPartitions = 10000;    // per topic

// Kafka's rules: 1..249 of [a-zA-Z0-9._-], not "." or "..".
// kInvalidTopicName with the reason.
Status validate_topic_name(std::string_view name);

// 1..kMaxPartitions; kInvalidPartitions.
Status validate_partition_count(int64_t partitions);

// 1..available_brokers. Below 1: kInvalidReplicationFactor. Above the number
// of unfenced brokers: kNotEnoughBrokers, e.g. "replication factor 3 exceeds
// the 2 available brokers".
Status validate_replication_factor(int64_t replication_factor, size_t available_brokers);

// A topic's share-group configs (keys starting "share."; others pass):
// share.delivery.count.limit 1-100, share.record.lock.duration.ms
// 100-3600000, share.retry.backoff.ms and share.retry.backoff.max.ms
// 0-3600000 (max not below the base), share.record.lock.partition.limit
// 1-10000, share.auto.offset.reset latest|earliest, share.dead.letter.topic a
// valid topic name other than `topic`. An unknown share.* key is refused (a
// typo would silently keep the default). kInvalidConfig naming the key.
Status validate_share_configs(std::string_view topic,
                              const std::map<std::string, std::string>& configs);

// A topic's log configs by Kafka's names (others pass): cleanup.policy
// delete|compact|compact,delete, min.cleanable.dirty.ratio 0-1,
// delete.retention.ms and min.compaction.lag.ms >= 0, segment.bytes
// 14-2^31-1, segment.ms >= 1, retention.ms and retention.bytes >= -1,
// min.insync.replicas 1-32. kInvalidConfig naming the key.
Status validate_log_configs(const std::map<std::string, std::string>& configs);

// Non-empty, ids >= 0, no duplicates; kInvalidRequest naming the problem.
Status validate_replica_list(const std::vector<BrokerId>& replicas);

}  // namespace dmq::cluster
