#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "cluster/image_codec.h"
#include "cluster/reassignment.h"
#include "cluster/rebalance.h"

using namespace dmq::cluster;

namespace {

std::vector<BrokerId> ids(std::initializer_list<int> v) {
  std::vector<BrokerId> out;
  for (int i : v) out.push_back(BrokerId{i});
  return out;
}

// An image with unfenced brokers 1..n and topic "t" whose partitions have the
// given replicas (ISR = replicas, leader = first).
struct Cluster {
  MetadataState state;
  uint64_t next_index = 1;

  void commit(const RecordBatch& batch) {
    Status s = state.apply(batch, LogIndex{next_index++});
    if (!s) FAIL("rejected: " << s.error().message);
  }
  void brokers(int n) {
    for (int id = 1; id <= n; ++id) add_broker(id);
  }
  void add_broker(int id) {
    commit({RegisterBrokerRecord{BrokerId{id}, "inc", "h", 1, "h", 2, "", {}}});
    commit({UnfenceBrokerRecord{BrokerId{id}, state.find_broker(BrokerId{id})->epoch}});
  }
  void topic(const std::vector<std::vector<BrokerId>>& partitions) {
    CreateTopicRecord t{"t", "id-t", {}, {}};
    for (const auto& r : partitions) t.partitions.push_back({r});
    commit({t});
  }
  const PartitionState& p(int partition) {
    return *state.find_partition("t", PartitionId{partition});
  }
  void propose(const PartitionChangeRecord& change) { commit({change}); }
  // The leader adds `broker` to the ISR (AlterPartition).
  void joins_isr(int partition, int broker) {
    std::vector<BrokerId> isr = p(partition).isr;
    isr.push_back(BrokerId{broker});
    commit({PartitionChangeRecord{"t", PartitionId{partition}, p(partition).partition_epoch,
                                  std::nullopt, isr}});
  }
};

}  // namespace

TEST_CASE("a reassignment adds the target, waits for its ISR, then drops the old replicas") {
  Cluster c;
  c.brokers(4);
  c.topic({ids({1, 2})});
  auto start = plan_reassignment(c.state, "t", PartitionId{0}, ids({3, 2}));
  REQUIRE(start.ok());
  REQUIRE(start.value().has_value());
  c.propose(*start.value());
  CHECK(c.p(0).replicas == ids({3, 2, 1}));
  CHECK(c.p(0).adding_replicas == ids({3}));
  CHECK(c.p(0).removing_replicas == ids({1}));
  CHECK(c.p(0).leader == BrokerId{1});  // the old leader serves while 3 catches up
  CHECK(original_replicas(c.p(0)) == ids({2, 1}));
  CHECK(target_replicas(c.p(0)) == ids({3, 2}));
  // Not caught up: nothing to complete.
  CHECK(reassignment_completions(c.state).empty());
  c.joins_isr(0, 3);
  auto done = reassignment_completions(c.state);
  REQUIRE(done.size() == 1);
  c.propose(done.front());
  CHECK(c.p(0).replicas == ids({3, 2}));
  CHECK(c.p(0).isr == ids({2, 3}));
  CHECK_FALSE(c.p(0).reassigning());
  // The removed leader hands over to the first target replica in the ISR
  // (the new preferred leader), with a new leader epoch.
  CHECK(c.p(0).leader == BrokerId{3});
  CHECK(c.p(0).leader_epoch.value == 1);
  CHECK(c.state.check_invariants().ok());
}

TEST_CASE("the reassignment state survives the table encoding and the old layout stays") {
  Cluster c;
  c.brokers(3);
  c.topic({ids({1, 2})});
  const TopicState plain = *c.state.find_topic("t");
  CHECK(static_cast<uint8_t>(encode_topic(plain)[0]) == 1);
  c.propose(*plan_reassignment(c.state, "t", PartitionId{0}, ids({3})).value());
  const TopicState moving = *c.state.find_topic("t");
  auto decoded = decode_topic(encode_topic(moving));
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == moving);
  CHECK(decoded.value().partitions[0].adding_replicas == ids({3}));
}

TEST_CASE("a reorder applies at once; a new target replaces a move; the original cancels it") {
  Cluster c;
  c.brokers(4);
  c.topic({ids({1, 2})});
  auto reorder = plan_reassignment(c.state, "t", PartitionId{0}, ids({2, 1}));
  REQUIRE(reorder.ok());
  c.propose(*reorder.value());
  CHECK(c.p(0).replicas == ids({2, 1}));
  CHECK_FALSE(c.p(0).reassigning());
  auto same = plan_reassignment(c.state, "t", PartitionId{0}, ids({2, 1}));
  REQUIRE(same.ok());
  CHECK_FALSE(same.value().has_value());

  c.propose(*plan_reassignment(c.state, "t", PartitionId{0}, ids({3, 1})).value());
  c.joins_isr(0, 3);
  // Replaced before it completed: 3 leaves again (and the ISR), 4 is added.
  c.propose(*plan_reassignment(c.state, "t", PartitionId{0}, ids({4, 1})).value());
  CHECK(c.p(0).replicas == ids({4, 1, 2}));
  CHECK(c.p(0).adding_replicas == ids({4}));
  CHECK(c.p(0).isr == ids({1, 2}));
  // Back to the original set: cancelled, nothing pending.
  c.propose(*plan_reassignment(c.state, "t", PartitionId{0}, ids({2, 1})).value());
  CHECK(c.p(0).replicas == ids({2, 1}));
  CHECK_FALSE(c.p(0).reassigning());
  CHECK(c.state.check_invariants().ok());
}

TEST_CASE("bad reassignment targets are refused with a reason") {
  Cluster c;
  c.brokers(3);
  c.topic({ids({1, 2})});
  CHECK(plan_reassignment(c.state, "nope", PartitionId{0}, ids({1})).error().code ==
        ErrorCode::kUnknownTopic);
  CHECK(plan_reassignment(c.state, "t", PartitionId{5}, ids({1})).error().code ==
        ErrorCode::kUnknownPartition);
  CHECK(plan_reassignment(c.state, "t", PartitionId{0}, {}).error().code ==
        ErrorCode::kInvalidReplicaAssignment);
  CHECK(plan_reassignment(c.state, "t", PartitionId{0}, ids({1, 1})).error().code ==
        ErrorCode::kInvalidReplicaAssignment);
  auto unknown = plan_reassignment(c.state, "t", PartitionId{0}, ids({1, 9}));
  CHECK(unknown.error().code == ErrorCode::kInvalidReplicaAssignment);
  CHECK(unknown.error().message.find("9") != std::string::npos);
  // The state machine refuses an unregistered replica even if a planner let it through.
  PartitionChangeRecord forged{"t", PartitionId{0}, c.p(0).partition_epoch, std::nullopt,
                               std::nullopt};
  forged.replicas = ids({1, 2, 9});
  forged.adding_replicas = ids({9});
  CHECK(c.state.apply({forged}, LogIndex{c.next_index++}).error().code ==
        ErrorCode::kUnknownBroker);
}

TEST_CASE("a completion waits while no target replica can lead") {
  Cluster c;
  c.brokers(3);
  c.topic({ids({1})});
  c.propose(*plan_reassignment(c.state, "t", PartitionId{0}, ids({2})).value());
  c.joins_isr(0, 2);
  c.commit({FenceBrokerRecord{BrokerId{2}, c.state.find_broker(BrokerId{2})->epoch}});
  CHECK(reassignment_completions(c.state).empty());
}

TEST_CASE("preferred and unclean leader elections report per partition") {
  Cluster c;
  c.brokers(3);
  c.topic({ids({1, 2}), ids({3, 2}), ids({3})});
  // Partition 0's leadership moves to 2; broker 3 is fenced: partition 1
  // moves to 2, partition 2 goes offline.
  c.propose(PartitionChangeRecord{"t", PartitionId{0}, c.p(0).partition_epoch, BrokerId{2}, {}});
  c.commit(
      {FenceBrokerRecord{BrokerId{3}, c.state.find_broker(BrokerId{3})->epoch},
       PartitionChangeRecord{"t", PartitionId{1}, c.p(1).partition_epoch, BrokerId{2}, ids({2})},
       PartitionChangeRecord{"t", PartitionId{2}, c.p(2).partition_epoch, kNoLeader, {}}});
  ElectionPlan preferred =
      plan_elect_leaders(c.state, ElectionType::kPreferred,
                         std::vector<TopicPartitionRef>{
                             {"t", PartitionId{0}}, {"t", PartitionId{1}}, {"x", PartitionId{0}}});
  REQUIRE(preferred.results.size() == 3);
  CHECK(preferred.results[0].outcome == ElectionOutcome::kElected);
  CHECK(preferred.results[1].outcome == ElectionOutcome::kPreferredNotAvailable);
  CHECK(preferred.results[2].outcome == ElectionOutcome::kUnknownTopicOrPartition);
  c.commit(preferred.batch);
  CHECK(c.p(0).leader == BrokerId{1});

  ElectionPlan unclean = plan_elect_leaders(c.state, ElectionType::kUnclean, std::nullopt);
  REQUIRE(unclean.results.size() == 1);  // only the offline partition 2
  CHECK(unclean.results[0].outcome == ElectionOutcome::kEligibleLeadersNotAvailable);
  c.commit({UnfenceBrokerRecord{BrokerId{3}, c.state.find_broker(BrokerId{3})->epoch}});
  unclean = plan_elect_leaders(c.state, ElectionType::kUnclean, std::nullopt);
  REQUIRE(unclean.results.size() == 1);
  CHECK(unclean.results[0].outcome == ElectionOutcome::kElected);
  c.commit(unclean.batch);
  CHECK(c.p(2).leader == BrokerId{3});
}

namespace {

std::map<BrokerId, int> replica_counts(const std::vector<PartitionReplicas>& parts) {
  std::map<BrokerId, int> n;
  for (const auto& p : parts)
    for (BrokerId b : p.replicas) ++n[b];
  return n;
}

std::vector<PartitionReplicas> apply_moves(std::vector<PartitionReplicas> parts,
                                           const std::vector<PartitionMove>& moves) {
  for (const PartitionMove& m : moves) {
    for (auto& p : parts) {
      if (p.topic == m.topic && p.partition == m.partition) {
        CHECK(p.replicas == m.from);
        p.replicas = m.to;
      }
    }
  }
  return parts;
}

void check_even(const std::vector<PartitionReplicas>& parts, const std::vector<BrokerId>& live) {
  std::map<BrokerId, int> replicas = replica_counts(parts);
  std::map<BrokerId, int> leaders;
  for (const auto& p : parts) ++leaders[p.replicas.front()];
  int rmin = 1 << 30, rmax = 0, lmin = 1 << 30, lmax = 0;
  for (BrokerId b : live) {
    rmin = std::min(rmin, replicas[b]);
    rmax = std::max(rmax, replicas[b]);
    lmin = std::min(lmin, leaders[b]);
    lmax = std::max(lmax, leaders[b]);
  }
  CHECK(rmax - rmin <= 1);
  CHECK(lmax - lmin <= 1);
  for (const auto& [b, n] : replicas) {
    CHECK(std::find(live.begin(), live.end(), b) != live.end());
  }
  for (const auto& p : parts) {
    std::vector<BrokerId> sorted = p.replicas;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  }
}

}  // namespace

TEST_CASE("a fourth broker takes its share of replicas and preferred leaders in few moves") {
  // 12 partitions, RF 2, balanced over 1..3: 24 replicas, 8 each.
  std::vector<PartitionReplicas> parts;
  for (int i = 0; i < 12; ++i) {
    parts.push_back({"t", PartitionId{i}, ids({1 + i % 3, 1 + (i + 1) % 3})});
  }
  const std::vector<BrokerId> live = ids({1, 2, 3, 4});
  auto moves = plan_rebalance(parts, live);
  auto after = apply_moves(parts, moves);
  check_even(after, live);
  CHECK(replica_counts(after)[BrokerId{4}] == 6);
  // Minimal data movement: exactly the 6 replicas broker 4 receives move.
  int moved = 0;
  for (const auto& m : moves) {
    for (BrokerId b : m.to) {
      if (std::find(m.from.begin(), m.from.end(), b) == m.from.end()) ++moved;
    }
  }
  CHECK(moved == 6);
  // Already balanced: no moves at all.
  CHECK(plan_rebalance(after, live).empty());
}

TEST_CASE("replicas on a broker that is gone move to live ones") {
  std::vector<PartitionReplicas> parts{{"a", PartitionId{0}, ids({1, 5})},
                                       {"a", PartitionId{1}, ids({5, 2})},
                                       {"b", PartitionId{0}, ids({3, 1})}};
  const std::vector<BrokerId> live = ids({1, 2, 3});
  auto after = apply_moves(parts, plan_rebalance(parts, live));
  check_even(after, live);
}

TEST_CASE("leaders even out by reordering when replicas are already even") {
  // Every partition on all 3 brokers, broker 1 preferred everywhere.
  std::vector<PartitionReplicas> parts;
  for (int i = 0; i < 6; ++i) parts.push_back({"t", PartitionId{i}, ids({1, 2, 3})});
  auto moves = plan_rebalance(parts, ids({1, 2, 3}));
  auto after = apply_moves(parts, moves);
  check_even(after, ids({1, 2, 3}));
  for (const auto& m : moves) {
    std::vector<BrokerId> a = m.from, b = m.to;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    CHECK(a == b);  // only the order changed: no data moves
  }
}

TEST_CASE("random layouts always end even") {
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1103515245u + 12345u; };
  for (int round = 0; round < 200; ++round) {
    int brokers = 2 + next() % 5;
    int rf = 1 + next() % std::min(brokers, 3);
    std::vector<PartitionReplicas> parts;
    int count = 1 + next() % 20;
    for (int i = 0; i < count; ++i) {
      std::vector<BrokerId> r;
      while (static_cast<int>(r.size()) < rf) {
        BrokerId b{1 + static_cast<int>(next() % (brokers + 1))};
        if (std::find(r.begin(), r.end(), b) == r.end()) r.push_back(b);
      }
      parts.push_back({"t", PartitionId{i}, r});
    }
    std::vector<BrokerId> live;
    for (int b = 1; b <= brokers; ++b) live.push_back(BrokerId{b});
    INFO("round " << round);
    check_even(apply_moves(parts, plan_rebalance(parts, live)), live);
  }
}
