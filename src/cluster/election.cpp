#include "cluster/election.h"

#include <algorithm>

namespace dmq::cluster {
namespace {

bool contains(const std::vector<BrokerId>& ids, BrokerId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

bool unclean_allowed(const TopicState& topic, const ElectionPolicy& policy) {
  auto it = topic.configs.find(kUncleanElectionConfig);
  if (it == topic.configs.end()) return policy.unclean_election_default;
  return it->second == "true";
}

// Eligible: registered, unfenced and not being removed.
bool eligible(const MetadataState& state, BrokerId id, const std::set<BrokerId>& removed) {
  return state.is_unfenced(id) && !removed.count(id);
}

// The change for one partition when `removed` brokers go away, or nullopt if
// the partition does not involve them.
std::optional<PartitionChangeRecord> without_brokers(const MetadataState& state,
                                                     const TopicState& topic,
                                                     const PartitionState& p,
                                                     const std::set<BrokerId>& removed,
                                                     const ElectionPolicy& policy) {
  bool leads = removed.count(p.leader) > 0;
  bool in_isr =
      std::any_of(p.isr.begin(), p.isr.end(), [&](BrokerId b) { return removed.count(b) > 0; });
  if (!leads && !in_isr) return std::nullopt;
  std::vector<BrokerId> isr;
  for (BrokerId b : p.isr) {
    if (!removed.count(b)) isr.push_back(b);
  }
  BrokerId leader = p.leader;
  if (leads) {
    leader = kNoLeader;
    // Replica order, so the preferred replica wins when it is in sync.
    for (BrokerId b : p.replicas) {
      if (contains(isr, b) && eligible(state, b, removed)) {
        leader = b;
        break;
      }
    }
    if (leader == kNoLeader && unclean_allowed(topic, policy)) {
      for (BrokerId b : p.replicas) {
        if (eligible(state, b, removed)) {
          leader = b;
          isr = {b};
          break;
        }
      }
    }
  }
  // Keep the last in-sync replica recorded rather than empty the ISR, so a
  // clean election is still possible when it returns.
  if (isr.empty()) isr = {p.isr.front()};
  PartitionChangeRecord change{topic.name, p.id, p.partition_epoch, std::nullopt, std::nullopt};
  if (leader != p.leader) change.leader = leader;
  if (isr != p.isr) change.isr = isr;
  if (!change.leader && !change.isr) return std::nullopt;
  return change;
}

std::vector<PartitionChangeRecord> changes_without(const MetadataState& state,
                                                   const std::set<BrokerId>& removed,
                                                   const ElectionPolicy& policy) {
  std::vector<PartitionChangeRecord> out;
  for (const auto& [name, topic] : state.image().topics) {
    for (const PartitionState& p : topic.partitions) {
      if (auto change = without_brokers(state, topic, p, removed, policy)) {
        out.push_back(std::move(*change));
      }
    }
  }
  return out;
}

}  // namespace

RecordBatch fence_brokers_batch(const MetadataState& state, const std::set<BrokerId>& brokers,
                                const ElectionPolicy& policy) {
  RecordBatch batch;
  std::set<BrokerId> removed;
  for (BrokerId id : brokers) {
    const BrokerRegistration* b = state.find_broker(id);
    if (!b || b->fenced) continue;
    batch.push_back(FenceBrokerRecord{id, b->epoch});
    removed.insert(id);
  }
  if (removed.empty()) return batch;
  for (PartitionChangeRecord& c : changes_without(state, removed, policy)) {
    batch.push_back(std::move(c));
  }
  return batch;
}

std::vector<PartitionChangeRecord> move_leadership_away(const MetadataState& state, BrokerId broker,
                                                        const ElectionPolicy& policy) {
  return changes_without(state, {broker}, policy);
}

RecordBatch unfence_broker_batch(const MetadataState& state, BrokerId broker, BrokerEpoch epoch,
                                 const ElectionPolicy& policy) {
  const BrokerRegistration* b = state.find_broker(broker);
  if (!b || !b->fenced || b->epoch != epoch) return {};
  RecordBatch batch{UnfenceBrokerRecord{broker, epoch}};
  for (const auto& [name, topic] : state.image().topics) {
    for (const PartitionState& p : topic.partitions) {
      if (p.leader != kNoLeader || !contains(p.replicas, broker)) continue;
      if (contains(p.isr, broker)) {
        batch.push_back(PartitionChangeRecord{name, p.id, p.partition_epoch, broker, std::nullopt});
      } else if (unclean_allowed(topic, policy)) {
        batch.push_back(PartitionChangeRecord{name, p.id, p.partition_epoch, broker,
                                              std::vector<BrokerId>{broker}});
      }
    }
  }
  return batch;
}

RecordBatch preferred_leader_moves(const MetadataState& state) {
  RecordBatch batch;
  for (const auto& [name, topic] : state.image().topics) {
    for (const PartitionState& p : topic.partitions) {
      BrokerId preferred = p.replicas.front();
      if (p.leader == preferred || !contains(p.isr, preferred)) continue;
      if (!state.is_unfenced(preferred)) continue;
      batch.push_back(
          PartitionChangeRecord{name, p.id, p.partition_epoch, preferred, std::nullopt});
    }
  }
  return batch;
}

Result<PartitionChangeRecord> handle_alter_partition(const MetadataState& state,
                                                     const AlterPartitionRequest& r) {
  const BrokerRegistration* b = state.find_broker(r.broker);
  if (!b) return Error{ErrorCode::kUnknownBroker, "broker is not registered"};
  if (b->epoch != r.broker_epoch) {
    return Error{ErrorCode::kStaleBrokerEpoch,
                 "broker epoch " + std::to_string(r.broker_epoch.value) +
                     " is not the current epoch " + std::to_string(b->epoch.value)};
  }
  if (!state.find_topic(r.topic)) return Error{ErrorCode::kUnknownTopic, "no topic " + r.topic};
  const PartitionState* p = state.find_partition(r.topic, r.partition);
  if (!p) return Error{ErrorCode::kUnknownPartition, "no such partition"};
  if (p->leader != r.broker || p->leader_epoch != r.leader_epoch) {
    return Error{ErrorCode::kNotLeader, "broker " + std::to_string(r.broker.value) +
                                            " does not lead at leader epoch " +
                                            std::to_string(r.leader_epoch.value)};
  }
  if (p->partition_epoch != r.partition_epoch) {
    return Error{ErrorCode::kStalePartitionEpoch,
                 "partition epoch is " + std::to_string(p->partition_epoch.value)};
  }
  std::vector<BrokerId> sorted = r.new_isr;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Error{ErrorCode::kInvalidIsr, "duplicate broker in isr"};
  }
  if (!contains(r.new_isr, r.broker)) return Error{ErrorCode::kInvalidIsr, "leader not in isr"};
  for (BrokerId id : r.new_isr) {
    if (!contains(p->replicas, id)) {
      return Error{ErrorCode::kInvalidIsr,
                   "broker " + std::to_string(id.value) + " is not a replica"};
    }
    if (!contains(p->isr, id) && !state.is_unfenced(id)) {
      return Error{ErrorCode::kInvalidIsr,
                   "broker " + std::to_string(id.value) + " is fenced and cannot join the isr"};
    }
  }
  return PartitionChangeRecord{r.topic, r.partition, r.partition_epoch, std::nullopt, r.new_isr};
}

}  // namespace dmq::cluster
