#include "cluster/placement.h"

#include <algorithm>
#include <map>
#include <set>

#include "cluster/validation.h"

namespace dmq::cluster {
namespace {

// The follower index rule of Kafka's AdminUtils.replicaIndex: skips the first
// replica and wraps within the other n-1 brokers.
size_t replica_index(size_t first, size_t shift, size_t j, size_t n) {
  size_t s = 1 + (shift + j) % (n - 1);
  return (first + s) % n;
}

// a1, b1, c1, a2, b2, ...: racks in name order, brokers in id order within a rack.
std::vector<BrokerPlacement> rack_alternated(const std::vector<BrokerPlacement>& brokers) {
  std::map<std::string, std::vector<BrokerPlacement>> by_rack;
  for (const BrokerPlacement& b : brokers) by_rack[b.rack].push_back(b);
  std::vector<BrokerPlacement> out;
  for (size_t round = 0; out.size() < brokers.size(); ++round) {
    for (const auto& [rack, list] : by_rack) {
      if (round < list.size()) out.push_back(list[round]);
    }
  }
  return out;
}

std::vector<BrokerId> rack_aware_replicas(const std::vector<BrokerPlacement>& list,
                                          size_t num_racks, size_t first, size_t shift,
                                          int32_t rf) {
  size_t n = list.size();
  std::vector<BrokerId> replicas{list[first].id};
  std::set<std::string> racks{list[first].rack};
  std::set<BrokerId> used{list[first].id};
  size_t k = 0;
  while (replicas.size() < static_cast<size_t>(rf)) {
    const BrokerPlacement& b = list[replica_index(first, shift * num_racks, k++, n)];
    // Prefer a new rack while some rack has no replica, and a new broker always.
    bool rack_ok = !racks.count(b.rack) || racks.size() == num_racks;
    if (rack_ok && !used.count(b.id)) {
      replicas.push_back(b.id);
      racks.insert(b.rack);
      used.insert(b.id);
    }
    DMQ_ASSERT(k <= 2 * n * n + 2 * n);  // always terminates: all brokers reachable
  }
  return replicas;
}

}  // namespace

std::vector<PartitionAssignment> place_replicas(std::vector<BrokerPlacement> brokers,
                                                int32_t partitions, int32_t replication_factor,
                                                uint32_t random, int32_t first_partition) {
  DMQ_ASSERT(replication_factor >= 1);
  DMQ_ASSERT(static_cast<size_t>(replication_factor) <= brokers.size());
  DMQ_ASSERT(partitions >= 0);
  std::sort(brokers.begin(), brokers.end(),
            [](const BrokerPlacement& a, const BrokerPlacement& b) { return a.id < b.id; });
  bool rack_aware = std::all_of(brokers.begin(), brokers.end(),
                                [](const BrokerPlacement& b) { return !b.rack.empty(); });
  std::set<std::string> racks;
  for (const BrokerPlacement& b : brokers) racks.insert(b.rack);
  if (rack_aware) brokers = rack_alternated(brokers);
  size_t n = brokers.size();
  size_t start = random % n;
  size_t shift = (random / 7919u) % n;  // an independent-looking second draw
  std::vector<PartitionAssignment> out;
  for (int32_t i = 0; i < partitions; ++i) {
    size_t p = static_cast<size_t>(first_partition + i);
    size_t partition_shift = shift + p / n;
    size_t first = (p + start) % n;
    PartitionAssignment a;
    if (rack_aware) {
      a.replicas =
          rack_aware_replicas(brokers, racks.size(), first, partition_shift, replication_factor);
    } else {
      a.replicas.push_back(brokers[first].id);
      for (int32_t j = 0; j + 1 < replication_factor; ++j) {
        a.replicas.push_back(brokers[replica_index(first, partition_shift, j, n)].id);
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<BrokerPlacement> placement_candidates(const MetadataState& state) {
  std::vector<BrokerPlacement> out;
  for (const auto& [id, b] : state.image().brokers) {
    if (!b.fenced) out.push_back({id, b.rack});
  }
  return out;
}

Result<CreateTopicRecord> plan_create_topic(const MetadataState& state,
                                            const CreateTopicRequest& request,
                                            const std::string& topic_id, uint32_t random) {
  if (Status s = validate_topic_name(request.name); !s) return s.error();
  if (state.find_topic(request.name)) {
    return Error{ErrorCode::kTopicExists, "topic '" + request.name + "' already exists"};
  }
  if (Status s = validate_partition_count(request.partitions); !s) return s.error();
  std::vector<BrokerPlacement> brokers = placement_candidates(state);
  if (Status s = validate_replication_factor(request.replication_factor, brokers.size()); !s) {
    return s.error();
  }
  for (const auto& [key, value] : request.configs) {
    if (key.empty()) return Error{ErrorCode::kInvalidConfig, "empty config key"};
  }
  if (Status s = validate_share_configs(request.name, request.configs); !s) return s.error();
  if (Status s = validate_log_configs(request.configs); !s) return s.error();
  CreateTopicRecord record;
  record.name = request.name;
  record.topic_id = topic_id;
  record.configs = request.configs;
  record.partitions = place_replicas(std::move(brokers), static_cast<int32_t>(request.partitions),
                                     static_cast<int32_t>(request.replication_factor), random);
  return record;
}

Result<CreatePartitionsRecord> plan_create_partitions(const MetadataState& state,
                                                      const std::string& name,
                                                      int64_t total_partitions, uint32_t random) {
  const TopicState* t = state.find_topic(name);
  if (!t) return Error{ErrorCode::kUnknownTopic, "topic '" + name + "' does not exist"};
  int64_t existing = static_cast<int64_t>(t->partitions.size());
  if (total_partitions <= existing) {
    return Error{ErrorCode::kInvalidPartitions,
                 "topic '" + name + "' already has " + std::to_string(existing) + " partitions"};
  }
  if (Status s = validate_partition_count(total_partitions); !s) return s.error();
  std::vector<BrokerPlacement> brokers = placement_candidates(state);
  int64_t rf = static_cast<int64_t>(t->partitions.front().replicas.size());
  if (Status s = validate_replication_factor(rf, brokers.size()); !s) return s.error();
  CreatePartitionsRecord record;
  record.name = name;
  record.topic_id = t->topic_id;
  record.partitions =
      place_replicas(std::move(brokers), static_cast<int32_t>(total_partitions - existing),
                     static_cast<int32_t>(rf), random, static_cast<int32_t>(existing));
  return record;
}

Result<ConfigChangeRecord> plan_config_change(
    const MetadataState& state, ConfigResource resource, const std::string& resource_name,
    const std::map<std::string, std::optional<std::string>>& changes) {
  for (const auto& [key, value] : changes) {
    if (key.empty()) return Error{ErrorCode::kInvalidConfig, "empty config key"};
  }
  if (resource == ConfigResource::kTopic) {
    const TopicState* topic = state.find_topic(resource_name);
    if (!topic) {
      return Error{ErrorCode::kUnknownTopic, "topic '" + resource_name + "' does not exist"};
    }
    // The configs as they would be: held to the same rules as at creation.
    std::map<std::string, std::string> after(topic->configs.begin(), topic->configs.end());
    for (const auto& [key, value] : changes) {
      if (value) {
        after[key] = *value;
      } else {
        after.erase(key);
      }
    }
    if (Status s = validate_share_configs(resource_name, after); !s) return s.error();
    if (Status s = validate_log_configs(after); !s) return s.error();
  } else {
    bool numeric =
        resource_name.size() <= 9 && std::all_of(resource_name.begin(), resource_name.end(),
                                                 [](char c) { return c >= '0' && c <= '9'; });
    if (!numeric) {
      return Error{ErrorCode::kInvalidRequest,
                   "broker config resource must be a broker id or \"\""};
    }
  }
  return ConfigChangeRecord{resource, resource_name, changes};
}

Result<AllocateProducerIdsRecord> plan_allocate_producer_ids(const MetadataState& state,
                                                             BrokerId broker, BrokerEpoch epoch) {
  const BrokerRegistration* b = state.find_broker(broker);
  if (!b) return Error{ErrorCode::kUnknownBroker, "broker is not registered"};
  if (b->epoch != epoch) {
    return Error{ErrorCode::kStaleBrokerEpoch, "broker epoch " + std::to_string(epoch.value) +
                                                   " is not the current epoch " +
                                                   std::to_string(b->epoch.value)};
  }
  return AllocateProducerIdsRecord{broker, epoch, state.image().next_producer_id};
}

Result<DeleteTopicRecord> plan_delete_topic(const MetadataState& state, const std::string& name) {
  const TopicState* t = state.find_topic(name);
  if (!t) return Error{ErrorCode::kUnknownTopic, "topic '" + name + "' does not exist"};
  return DeleteTopicRecord{name, t->topic_id};
}

}  // namespace dmq::cluster
