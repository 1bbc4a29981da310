#pragma once
// The rebalance planner behind POST /v1/rebalance: spreads replicas and
// preferred leaders evenly over the live brokers with few moves. Pure logic,
// deterministic; no rack awareness. Any thread.
//
// 1. Replicas on brokers that are not live move to the least-loaded live
//    broker that does not hold the partition yet.
// 2. While the most loaded broker holds two replicas more than the least
//    loaded one, one replica moves from the first to the second (in place in
//    the replica list), so every broker ends with floor or ceil of the mean.
// 3. While the broker that is preferred leader (first replica) of the most
//    partitions leads two more than another, a partition they share is
//    reordered so the other comes first: leadership moves, no data does.

#include <string>
#include <vector>

#include "cluster/metadata_state.h"
#include "cluster/types.h"

namespace dmq::cluster {

struct PartitionReplicas {
  std::string topic;
  PartitionId partition;
  std::vector<BrokerId> replicas;  // replicas[0] is the preferred leader
  bool operator==(const PartitionReplicas&) const = default;
};

struct PartitionMove {
  std::string topic;
  PartitionId partition;
  std::vector<BrokerId> from;
  std::vector<BrokerId> to;
  bool operator==(const PartitionMove&) const = default;
};

// The partitions whose replica list changes (set or order), in input order.
// `live` must not be empty.
std::vector<PartitionMove> plan_rebalance(const std::vector<PartitionReplicas>& partitions,
                                          const std::vector<BrokerId>& live);

// Over the image: every partition not being reassigned, the unfenced brokers.
std::vector<PartitionMove> plan_rebalance(const MetadataState& state);

}  // namespace dmq::cluster
