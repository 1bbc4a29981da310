#include "cluster/reassignment.h"

#include <algorithm>

#include "cluster/validation.h"

namespace dmq::cluster {
namespace {

bool contains(const std::vector<BrokerId>& ids, BrokerId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::vector<BrokerId> minus(const std::vector<BrokerId>& a, const std::vector<BrokerId>& b) {
  std::vector<BrokerId> out;
  for (BrokerId id : a) {
    if (!contains(b, id)) out.push_back(id);
  }
  return out;
}

Status check_target(const MetadataState& state, const PartitionState& p,
                    const std::vector<BrokerId>& target) {
  if (Status s = validate_replica_list(target); !s) {
    return Error{ErrorCode::kInvalidReplicaAssignment, s.error().message};
  }
  for (BrokerId b : target) {
    if (!contains(p.replicas, b) && !state.find_broker(b)) {
      return Error{ErrorCode::kInvalidReplicaAssignment,
                   "broker " + std::to_string(b.value) + " is not registered"};
    }
  }
  return {};
}

// The leader after a change to `isr`: the current one if it stays, else the
// first unfenced member of `order` in the ISR (kNoLeader if none).
BrokerId leader_within(const MetadataState& state, const PartitionState& p,
                       const std::vector<BrokerId>& order, const std::vector<BrokerId>& isr) {
  if (p.leader != kNoLeader && contains(isr, p.leader)) return p.leader;
  for (BrokerId b : order) {
    if (contains(isr, b) && state.is_unfenced(b)) return b;
  }
  return kNoLeader;
}

PartitionChangeRecord change_to(const MetadataState& state, const std::string& topic,
                                const PartitionState& p, std::vector<BrokerId> replicas,
                                std::vector<BrokerId> adding, std::vector<BrokerId> removing) {
  std::vector<BrokerId> isr;
  for (BrokerId b : p.isr) {
    if (contains(replicas, b)) isr.push_back(b);
  }
  PartitionChangeRecord change{topic, p.id, p.partition_epoch, std::nullopt, std::nullopt};
  const BrokerId leader = leader_within(state, p, replicas, isr);
  if (leader != p.leader) change.leader = leader;
  if (isr != p.isr) change.isr = isr;
  change.replicas = std::move(replicas);
  change.adding_replicas = std::move(adding);
  change.removing_replicas = std::move(removing);
  return change;
}

}  // namespace

std::vector<BrokerId> original_replicas(const PartitionState& p) {
  return minus(p.replicas, p.adding_replicas);
}

std::vector<BrokerId> target_replicas(const PartitionState& p) {
  return minus(p.replicas, p.removing_replicas);
}

Result<std::optional<PartitionChangeRecord>> plan_reassignment(
    const MetadataState& state, const std::string& topic, PartitionId partition,
    const std::vector<BrokerId>& target) {
  if (!state.find_topic(topic)) return Error{ErrorCode::kUnknownTopic, "no topic " + topic};
  const PartitionState* p = state.find_partition(topic, partition);
  if (!p) {
    return Error{ErrorCode::kUnknownPartition, "no partition " + std::to_string(partition.value)};
  }
  if (Status s = check_target(state, *p, target); !s) return s.error();
  const std::vector<BrokerId> original = original_replicas(*p);
  if (!p->reassigning() && target == p->replicas) return std::optional<PartitionChangeRecord>{};
  std::vector<BrokerId> adding = minus(target, original);
  std::vector<BrokerId> removing = minus(original, target);
  if (adding.empty() && removing.empty()) {
    // The same set (a reorder, or the cancellation of an ongoing move): final at once.
    return std::optional{change_to(state, topic, *p, target, {}, {})};
  }
  std::vector<BrokerId> replicas = target;
  for (BrokerId b : removing) replicas.push_back(b);
  return std::optional{
      change_to(state, topic, *p, std::move(replicas), std::move(adding), std::move(removing))};
}

std::vector<PartitionChangeRecord> reassignment_completions(const MetadataState& state) {
  std::vector<PartitionChangeRecord> out;
  for (const auto& [name, topic] : state.image().topics) {
    for (const PartitionState& p : topic.partitions) {
      if (!p.reassigning()) continue;
      const std::vector<BrokerId> target = target_replicas(p);
      bool caught_up =
          std::all_of(target.begin(), target.end(), [&](BrokerId b) { return contains(p.isr, b); });
      if (!caught_up) continue;
      PartitionChangeRecord change = change_to(state, name, p, target, {}, {});
      // Wait rather than take the partition offline to remove its leader.
      if (change.leader && *change.leader == kNoLeader) continue;
      out.push_back(std::move(change));
    }
  }
  return out;
}

namespace {

ElectionResult elect_one(const MetadataState& state, const std::string& topic,
                         const PartitionState& p, ElectionType type, RecordBatch& batch) {
  ElectionResult result{topic, p.id, ElectionOutcome::kElected};
  if (type == ElectionType::kPreferred) {
    const BrokerId preferred = p.replicas.front();
    if (p.leader == preferred) {
      result.outcome = ElectionOutcome::kElectionNotNeeded;
    } else if (!contains(p.isr, preferred) || !state.is_unfenced(preferred)) {
      result.outcome = ElectionOutcome::kPreferredNotAvailable;
    } else {
      batch.push_back(PartitionChangeRecord{topic, p.id, p.partition_epoch, preferred, {}});
    }
    return result;
  }
  if (p.leader != kNoLeader) {
    result.outcome = ElectionOutcome::kElectionNotNeeded;
    return result;
  }
  // Unclean (KIP-460): an in-sync replica if one is back, else any live replica.
  BrokerId chosen = leader_within(state, p, p.replicas, p.isr);
  std::optional<std::vector<BrokerId>> isr;
  if (chosen == kNoLeader) {
    for (BrokerId b : target_replicas(p)) {
      if (state.is_unfenced(b)) {
        chosen = b;
        isr = std::vector<BrokerId>{b};
        break;
      }
    }
  }
  if (chosen == kNoLeader) {
    result.outcome = ElectionOutcome::kEligibleLeadersNotAvailable;
  } else {
    batch.push_back(PartitionChangeRecord{topic, p.id, p.partition_epoch, chosen, isr});
  }
  return result;
}

}  // namespace

ElectionPlan plan_elect_leaders(const MetadataState& state, ElectionType type,
                                const std::optional<std::vector<TopicPartitionRef>>& partitions) {
  ElectionPlan plan;
  if (partitions) {
    for (const TopicPartitionRef& ref : *partitions) {
      const PartitionState* p = state.find_partition(ref.topic, ref.partition);
      if (!p) {
        plan.results.push_back(
            {ref.topic, ref.partition, ElectionOutcome::kUnknownTopicOrPartition});
        continue;
      }
      plan.results.push_back(elect_one(state, ref.topic, *p, type, plan.batch));
    }
    return plan;
  }
  for (const auto& [name, topic] : state.image().topics) {
    for (const PartitionState& p : topic.partitions) {
      ElectionResult r = elect_one(state, name, p, type, plan.batch);
      if (r.outcome != ElectionOutcome::kElectionNotNeeded) plan.results.push_back(std::move(r));
    }
  }
  return plan;
}

std::string_view election_outcome_name(ElectionOutcome outcome) {
  switch (outcome) {
    case ElectionOutcome::kElected:
      return "elected";
    case ElectionOutcome::kElectionNotNeeded:
      return "election_not_needed";
    case ElectionOutcome::kPreferredNotAvailable:
      return "preferred_leader_not_available";
    case ElectionOutcome::kEligibleLeadersNotAvailable:
      return "eligible_leaders_not_available";
    case ElectionOutcome::kUnknownTopicOrPartition:
      return "unknown_topic_or_partition";
  }
  return "unknown";
}

}  // namespace dmq::cluster
