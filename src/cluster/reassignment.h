#pragma once
// Partition reassignment (KIP-455) and leader elections on request: the
// controller leader's pure decisions. A reassignment is two committed steps:
//
// 1. start: replicas = target + the old replicas not in it, with
//    adding_replicas (target minus old) and removing_replicas (old minus
//    target). The adding replicas' brokers open the log and fetch from the
//    leader, which adds them to the ISR (AlterPartition) once caught up.
// 2. completion (`reassignment_completions`, proposed by the controller
//    leader every tick): once every target replica is in the ISR, replicas =
//    target, ISR = ISR ∩ target, and if the leader is being removed the first
//    target replica in the ISR that is unfenced leads. The removed brokers
//    then delete their copy.
//
// An acknowledged record is in every ISR member's log, and the final ISR is
// the target, all of which were in the ISR: nothing acknowledged is lost.
// Any thread.

#include <optional>
#include <string>
#include <vector>

#include "cluster/election.h"
#include "cluster/error.h"
#include "cluster/metadata_state.h"
#include "cluster/records.h"

namespace dmq::cluster {

// The replicas a partition had before its ongoing reassignment (or its
// replicas when none is in progress), and the target it moves to.
std::vector<BrokerId> original_replicas(const PartitionState& p);
std::vector<BrokerId> target_replicas(const PartitionState& p);

// The change that moves `partition` of `topic` to `target`. A target equal to
// the current set in another order is applied at once (only the preferred
// leader changes); a new target replaces an ongoing reassignment, and the
// original replicas as target cancel it. nullopt: nothing to do. Errors:
// kUnknownTopic, kUnknownPartition, kInvalidReplicaAssignment (empty,
// duplicate, negative or unregistered broker id).
Result<std::optional<PartitionChangeRecord>> plan_reassignment(const MetadataState& state,
                                                               const std::string& topic,
                                                               PartitionId partition,
                                                               const std::vector<BrokerId>& target);

// The completing change of every reassignment whose target replicas are all
// in the ISR (and that has a live leader to hand over to).
std::vector<PartitionChangeRecord> reassignment_completions(const MetadataState& state);

// ElectLeaders (KIP-460): the outcome for one partition.
enum class ElectionOutcome {
  kElected,
  kElectionNotNeeded,            // preferred already leads / an unclean election found a leader
  kPreferredNotAvailable,        // the preferred replica is fenced or out of the ISR
  kEligibleLeadersNotAvailable,  // unclean: no unfenced replica
  kUnknownTopicOrPartition,
};

struct ElectionResult {
  std::string topic;
  PartitionId partition;
  ElectionOutcome outcome = ElectionOutcome::kElected;
};

struct ElectionPlan {
  std::vector<ElectionResult> results;
  RecordBatch batch;  // the PartitionChanges of the kElected results
};

enum class ElectionType { kPreferred, kUnclean };

struct TopicPartitionRef {
  std::string topic;
  PartitionId partition;
};

// `partitions`: nullopt = every partition of every topic (then only the
// elected and failing ones are listed, as Kafka lists them).
ElectionPlan plan_elect_leaders(const MetadataState& state, ElectionType type,
                                const std::optional<std::vector<TopicPartitionRef>>& partitions);

std::string_view election_outcome_name(ElectionOutcome outcome);

}  // namespace dmq::cluster
