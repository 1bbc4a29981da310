#include "cluster/rebalance.h"

#include <algorithm>
#include <map>

namespace dmq::cluster {
namespace {

bool contains(const std::vector<BrokerId>& ids, BrokerId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

using Counts = std::map<BrokerId, int64_t>;

// Live brokers ordered by count, then id (deterministic tie-break).
std::vector<BrokerId> by_count(const Counts& counts) {
  std::vector<BrokerId> order;
  for (const auto& [id, n] : counts) order.push_back(id);
  std::stable_sort(order.begin(), order.end(),
                   [&](BrokerId a, BrokerId b) { return counts.at(a) < counts.at(b); });
  return order;
}

void move_off_dead_brokers(std::vector<PartitionReplicas>& parts, Counts& counts) {
  for (PartitionReplicas& p : parts) {
    for (BrokerId& slot : p.replicas) {
      if (counts.count(slot)) continue;
      for (BrokerId candidate : by_count(counts)) {
        if (contains(p.replicas, candidate)) continue;
        slot = candidate;
        ++counts[candidate];
        break;
      }
    }
  }
}

// One replica from the most loaded broker to a less loaded one; false when
// balanced or no partition allows it.
bool move_one_replica(std::vector<PartitionReplicas>& parts, Counts& counts) {
  const std::vector<BrokerId> order = by_count(counts);
  const BrokerId most = order.back();
  for (BrokerId least : order) {
    if (counts[most] - counts[least] <= 1) return false;
    // Prefer moving a follower, so fewer preferred leaders change.
    for (int pass = 0; pass < 2; ++pass) {
      for (PartitionReplicas& p : parts) {
        auto it = std::find(p.replicas.begin(), p.replicas.end(), most);
        if (it == p.replicas.end() || contains(p.replicas, least)) continue;
        if (pass == 0 && it == p.replicas.begin()) continue;
        *it = least;
        --counts[most];
        ++counts[least];
        return true;
      }
    }
  }
  return false;
}

// One preferred leadership less for the broker that has the most: along a
// chain most -> b1 -> ... -> bk where each step is a partition the first
// leads and the second holds, each partition on the chain is reordered, so
// only the two ends change counts (an augmenting path, found breadth-first).
// False when no chain reaches a broker that leads two fewer.
bool move_one_leader(std::vector<PartitionReplicas>& parts, Counts& leaders) {
  const BrokerId most = by_count(leaders).back();
  std::map<BrokerId, size_t> via;  // broker reached -> index of the partition that reached it
  std::map<BrokerId, BrokerId> from;
  std::vector<BrokerId> queue{most};
  via[most] = parts.size();
  for (size_t head = 0; head < queue.size(); ++head) {
    const BrokerId at = queue[head];
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].replicas.front() != at) continue;
      for (BrokerId next : parts[i].replicas) {
        if (via.count(next) || !leaders.count(next)) continue;
        via[next] = i;
        from[next] = at;
        if (leaders[most] - leaders[next] > 1) {
          // Walk back, making each step's receiver the partition's first replica.
          for (BrokerId b = next; b != most; b = from[b]) {
            auto& r = parts[via[b]].replicas;
            std::iter_swap(r.begin(), std::find(r.begin(), r.end(), b));
          }
          --leaders[most];
          ++leaders[next];
          return true;
        }
        queue.push_back(next);
      }
    }
  }
  return false;
}

}  // namespace

std::vector<PartitionMove> plan_rebalance(const std::vector<PartitionReplicas>& partitions,
                                          const std::vector<BrokerId>& live) {
  std::vector<PartitionReplicas> parts = partitions;
  Counts counts;
  for (BrokerId b : live) counts[b] = 0;
  size_t total_replicas = 0;
  for (const PartitionReplicas& p : parts) {
    total_replicas += p.replicas.size();
    for (BrokerId b : p.replicas) {
      if (counts.count(b)) ++counts[b];
    }
  }
  if (counts.empty()) return {};
  move_off_dead_brokers(parts, counts);
  // Each move lowers the spread, so the loops end; the bounds only guard.
  for (size_t i = 0; i <= total_replicas && move_one_replica(parts, counts); ++i) {
  }
  Counts leaders;
  for (BrokerId b : live) leaders[b] = 0;
  for (const PartitionReplicas& p : parts) {
    if (leaders.count(p.replicas.front())) ++leaders[p.replicas.front()];
  }
  for (size_t i = 0; i <= parts.size() && move_one_leader(parts, leaders); ++i) {
  }
  std::vector<PartitionMove> moves;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].replicas == partitions[i].replicas) continue;
    moves.push_back(
        {parts[i].topic, parts[i].partition, partitions[i].replicas, parts[i].replicas});
  }
  return moves;
}

std::vector<PartitionMove> plan_rebalance(const MetadataState& state) {
  std::vector<PartitionReplicas> parts;
  for (const auto& [name, topic] : state.image().topics) {
    for (const PartitionState& p : topic.partitions) {
      if (!p.reassigning()) parts.push_back({name, p.id, p.replicas});
    }
  }
  std::vector<BrokerId> live;
  for (const auto& [id, b] : state.image().brokers) {
    if (!b.fenced) live.push_back(id);
  }
  return plan_rebalance(parts, live);
}

}  // namespace dmq::cluster
