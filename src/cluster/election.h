#pragma once
// Pure controller decisions about partition leadership: given the image, the
// batch of records to propose. Nothing here mutates state; the records take
// effect when committed and applied (and are re-checked then, see
// metadata_state.h). Any thread.
//
// Rules (KRaft's ReplicationControlManager):
// - A new leader is the first member of the ISR, in replica order, that is
//   registered, unfenced and not being removed. The leader epoch bumps.
// - A fenced broker leaves every ISR it is in, unless it is the last member:
//   the ISR never empties, so the last in-sync replica is remembered.
// - With no eligible ISR member the partition goes offline (leader kNoLeader),
//   unless unclean election is enabled for the topic (config
//   "unclean.leader.election.enable", default from ElectionPolicy): then the
//   first unfenced replica becomes leader with ISR = {it} (data may be lost).

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/error.h"
#include "cluster/metadata_state.h"
#include "cluster/records.h"

namespace dmq::cluster {

inline constexpr const char* kUncleanElectionConfig = "unclean.leader.election.enable";

struct ElectionPolicy {
  bool unclean_election_default = false;
};

// [FenceBroker for each of `brokers` (unfenced ones only), PartitionChange
// for every partition one of them leads or is in the ISR of]. Empty if none of
// them is an unfenced registered broker.
RecordBatch fence_brokers_batch(const MetadataState& state, const std::set<BrokerId>& brokers,
                                const ElectionPolicy& policy);

// Leadership moves only (no FenceBroker): every partition `broker` leads gets
// another leader, and it leaves the ISRs, as for fencing. Used by controlled
// shutdown before the broker is fenced.
std::vector<PartitionChangeRecord> move_leadership_away(const MetadataState& state, BrokerId broker,
                                                        const ElectionPolicy& policy);

// [UnfenceBroker, PartitionChange electing `broker` for every offline
// partition whose ISR holds it (or, with unclean election enabled, whose
// replicas hold it)]. Empty if the broker is unknown, not fenced, or `epoch`
// is not its current epoch.
RecordBatch unfence_broker_batch(const MetadataState& state, BrokerId broker, BrokerEpoch epoch,
                                 const ElectionPolicy& policy);

// Moves leadership back to each partition's preferred (first) replica where it
// is unfenced, in the ISR and not the leader (Kafka's preferred leader
// election). Empty when all is balanced.
RecordBatch preferred_leader_moves(const MetadataState& state);

// AlterPartition (KIP-497): the partition leader asks to change the ISR.
struct AlterPartitionRequest {
  BrokerId broker;
  BrokerEpoch broker_epoch;
  std::string topic;
  PartitionId partition;
  LeaderEpoch leader_epoch;
  PartitionEpoch partition_epoch;
  std::vector<BrokerId> new_isr;
};

// The record to propose, or: kUnknownBroker / kStaleBrokerEpoch (a zombie
// broker), kUnknownTopic / kUnknownPartition, kNotLeader (the broker does not
// lead, or at this leader epoch: Kafka's FENCED_LEADER_EPOCH),
// kStalePartitionEpoch (built on an old state: INVALID_UPDATE_VERSION),
// kInvalidIsr (leader missing, not a replica, duplicates, or an added member
// that is fenced: INELIGIBLE_REPLICA, KIP-841).
Result<PartitionChangeRecord> handle_alter_partition(const MetadataState& state,
                                                     const AlterPartitionRequest& request);

}  // namespace dmq::cluster
