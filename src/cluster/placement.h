#pragma once
// Replica placement and the checks a controller leader runs before proposing a
// topic change. Pure functions of the image and their arguments: randomness is
// a parameter, so tests and the simulator are deterministic. Any thread.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/error.h"
#include "cluster/metadata_state.h"
#include "cluster/records.h"

namespace dmq::cluster {

struct BrokerPlacement {
  BrokerId id;
  std::string rack;  // empty: unknown
};

// Kafka's assignment (AdminUtils.assignReplicasToBrokers): partition p's first
// replica (its preferred leader) is broker (p + start) mod n, so leaders are
// spread evenly; followers follow with a shift that grows every n partitions,
// so follower sets differ too. When every broker has a rack, brokers are first
// ordered rack-alternating (a1, b1, c1, a2, ...) and each follower is the next
// broker on a rack that holds no replica yet (while one exists), so RF <= racks
// puts every replica on its own rack. `first_partition` numbers the first new
// partition (non-zero when adding partitions). `random` picks start and shift.
// Requires 1 <= replication_factor <= brokers.size() and partitions >= 0.
std::vector<PartitionAssignment> place_replicas(std::vector<BrokerPlacement> brokers,
                                                int32_t partitions, int32_t replication_factor,
                                                uint32_t random, int32_t first_partition = 0);

// The unfenced brokers of the image, for place_replicas.
std::vector<BrokerPlacement> placement_candidates(const MetadataState& state);

struct CreateTopicRequest {
  std::string name;
  int64_t partitions = 1;
  int64_t replication_factor = 1;
  ConfigMap configs;
};

// Validates the request against the image and places its replicas. Errors:
// kInvalidTopicName, kTopicExists, kInvalidPartitions,
// kInvalidReplicationFactor, kNotEnoughBrokers, kInvalidConfig.
// `topic_id` is a fresh uuid chosen by the caller.
Result<CreateTopicRecord> plan_create_topic(const MetadataState& state,
                                            const CreateTopicRequest& request,
                                            const std::string& topic_id, uint32_t random);

// Grows `name` to `total_partitions` with the replication factor of its
// partition 0. kUnknownTopic, kInvalidPartitions (not larger, or over the
// limit), kNotEnoughBrokers.
Result<CreatePartitionsRecord> plan_create_partitions(const MetadataState& state,
                                                      const std::string& name,
                                                      int64_t total_partitions, uint32_t random);

// Sets (value) or deletes (nullopt) config keys of a topic, or of a broker
// (`resource_name` = decimal broker id, or "" for the cluster-wide default).
// kUnknownTopic, kInvalidConfig (empty key), kInvalidRequest (bad broker name).
Result<ConfigChangeRecord> plan_config_change(
    const MetadataState& state, ConfigResource resource, const std::string& resource_name,
    const std::map<std::string, std::optional<std::string>>& changes);

// The next block of producer ids for a broker (KIP-730 AllocateProducerIds).
// Once the record is committed the broker owns
// [record.next_block_start, record.next_block_start + kProducerIdBlockSize).
// kUnknownBroker, kStaleBrokerEpoch.
Result<AllocateProducerIdsRecord> plan_allocate_producer_ids(const MetadataState& state,
                                                             BrokerId broker, BrokerEpoch epoch);

// kUnknownTopic.
Result<DeleteTopicRecord> plan_delete_topic(const MetadataState& state, const std::string& name);

}  // namespace dmq::cluster
