#include <doctest/doctest.h>

#include <algorithm>

#include "cluster/broker_registry.h"
#include "cluster/election.h"
#include "cluster/placement.h"

using namespace dmq::cluster;

namespace {

constexpr int64_t kSession = 9000;

BrokerRegistrationRequest request(int id, std::string incarnation = "") {
  if (incarnation.empty()) incarnation = "inc-" + std::to_string(id);
  return {BrokerId{id}, incarnation,         "127.0.0.1", uint16_t(9090 + id),
          "127.0.0.1",  uint16_t(8080 + id), ""};
}

// A controller leader's view: the registry plus the image its proposals
// commit to (every proposal commits at the next index).
struct Controller {
  MetadataState state;
  BrokerRegistry registry{BrokerRegistry::Options{kSession, 2000, {}}};
  uint64_t next_index = 1;

  void commit(const RecordBatch& batch) {
    REQUIRE_FALSE(batch.empty());
    Status s = state.apply(batch, LogIndex{next_index++});
    if (!s) FAIL("rejected: " << s.error().message);
  }
  BrokerEpoch epoch(int id) { return state.find_broker(BrokerId{id})->epoch; }
  // Registers and unfences (via a heartbeat) brokers 1..n at time now.
  void start_brokers(int n, int64_t now) {
    for (int id = 1; id <= n; ++id) {
      Result<RecordBatch> r = registry.handle_register(state, request(id), now);
      REQUIRE(r.ok());
      commit(r.value());
      Result<HeartbeatDecision> hb =
          registry.handle_heartbeat(state, BrokerId{id}, epoch(id), state.applied_index(), now);
      REQUIRE(hb.ok());
      CHECK(hb.value().fenced);
      commit(hb.value().propose);
    }
  }
  void heartbeat(int id, int64_t now) {
    Result<HeartbeatDecision> hb =
        registry.handle_heartbeat(state, BrokerId{id}, epoch(id), state.applied_index(), now);
    REQUIRE(hb.ok());
    if (!hb.value().propose.empty()) commit(hb.value().propose);
  }
  void create(const std::string& name, int partitions, int rf, uint32_t random = 0) {
    Result<CreateTopicRecord> r =
        plan_create_topic(state, {name, partitions, rf, {}}, "id-" + name, random);
    REQUIRE(r.ok());
    commit({r.value()});
  }
  const PartitionState& p(const std::string& topic, int partition) {
    return *state.find_partition(topic, PartitionId{partition});
  }
};

bool contains(const std::vector<BrokerId>& v, int id) {
  return std::find(v.begin(), v.end(), BrokerId{id}) != v.end();
}

}  // namespace

TEST_CASE("an expired broker is fenced and its leaderships move within the ISR") {
  Controller c;
  c.start_brokers(3, 0);
  c.create("t", 6, 3);
  std::vector<PartitionState> before = c.state.find_topic("t")->partitions;
  // Brokers 2 and 3 keep heartbeating; broker 1 goes silent.
  c.heartbeat(2, 5000);
  c.heartbeat(3, 5000);
  CHECK(c.registry.expired_brokers(c.state, kSession - 1).empty());
  RecordBatch fence = c.registry.expired_brokers(c.state, kSession);
  REQUIRE_FALSE(fence.empty());
  CHECK(std::get<FenceBrokerRecord>(fence.front()).broker_id == BrokerId{1});
  // The same fence is not proposed again while it is committing.
  CHECK(c.registry.expired_brokers(c.state, kSession + 1).empty());
  c.commit(fence);
  CHECK(c.state.find_broker(BrokerId{1})->fenced);
  int moved = 0;
  for (int i = 0; i < 6; ++i) {
    const PartitionState& now = c.p("t", i);
    CHECK(now.leader != BrokerId{1});
    CHECK_FALSE(contains(now.isr, 1));
    CHECK(contains(before[i].isr, now.leader.value));
    if (before[i].leader == BrokerId{1}) {
      ++moved;
      CHECK(now.leader_epoch.value == before[i].leader_epoch.value + 1);
    } else {
      CHECK(now.leader == before[i].leader);
      CHECK(now.leader_epoch == before[i].leader_epoch);
    }
    CHECK(now.partition_epoch.value == before[i].partition_epoch.value + 1);
  }
  CHECK(moved == 2);
}

TEST_CASE("the last in-sync replica going away takes the partition offline") {
  Controller c;
  c.start_brokers(2, 0);
  c.create("solo", 1, 1, 0);  // random 0: replica is broker 1
  REQUIRE(c.p("solo", 0).leader == BrokerId{1});
  c.heartbeat(2, 8000);
  c.commit(c.registry.expired_brokers(c.state, kSession));
  CHECK(c.p("solo", 0).leader == kNoLeader);
  CHECK(c.p("solo", 0).isr == std::vector<BrokerId>{BrokerId{1}});  // remembered
  CHECK(c.p("solo", 0).leader_epoch == LeaderEpoch{1});
  // When broker 1 heartbeats again it is unfenced and elected in the same step.
  Result<HeartbeatDecision> hb = c.registry.handle_heartbeat(
      c.state, BrokerId{1}, c.epoch(1), c.state.applied_index(), kSession + 10);
  REQUIRE(hb.ok());
  CHECK(hb.value().fenced);
  REQUIRE(hb.value().propose.size() == 2);
  c.commit(hb.value().propose);
  CHECK_FALSE(c.state.find_broker(BrokerId{1})->fenced);
  CHECK(c.p("solo", 0).leader == BrokerId{1});
  CHECK(c.p("solo", 0).leader_epoch == LeaderEpoch{2});
}

TEST_CASE("unclean election, when enabled, elects an out-of-sync replica") {
  Controller c;
  c.start_brokers(2, 0);
  c.create("u", 1, 2, 0);  // replicas [1, 2]
  const PartitionState& p = c.p("u", 0);
  REQUIRE(p.leader == BrokerId{1});
  // Broker 2 falls out of the ISR.
  Result<PartitionChangeRecord> shrink = handle_alter_partition(c.state, {BrokerId{1},
                                                                          c.epoch(1),
                                                                          "u",
                                                                          PartitionId{0},
                                                                          p.leader_epoch,
                                                                          p.partition_epoch,
                                                                          {BrokerId{1}}});
  REQUIRE(shrink.ok());
  c.commit({shrink.value()});
  c.heartbeat(2, 8000);
  SUBCASE("disabled: offline") {
    c.commit(c.registry.expired_brokers(c.state, kSession));
    CHECK(c.p("u", 0).leader == kNoLeader);
  }
  SUBCASE("enabled by topic config: broker 2 leads with isr {2}") {
    c.commit({ConfigChangeRecord{ConfigResource::kTopic, "u", {{kUncleanElectionConfig, "true"}}}});
    c.commit(c.registry.expired_brokers(c.state, kSession));
    CHECK(c.p("u", 0).leader == BrokerId{2});
    CHECK(c.p("u", 0).isr == std::vector<BrokerId>{BrokerId{2}});
  }
}

TEST_CASE("a new controller leader grants every broker a fresh session") {
  Controller c;
  c.start_brokers(3, 0);
  // A new leader takes over at t=100000; it never saw any heartbeat.
  BrokerRegistry fresh(BrokerRegistry::Options{kSession, 2000, {}});
  fresh.reset_grace_period(c.state, 100000);
  CHECK(fresh.expired_brokers(c.state, 100000 + kSession - 1).empty());
  // Heartbeats to the new leader keep brokers 1 and 2 alive; 3 stays silent.
  REQUIRE(fresh.handle_heartbeat(c.state, BrokerId{1}, c.epoch(1), c.state.applied_index(), 105000)
              .ok());
  REQUIRE(fresh.handle_heartbeat(c.state, BrokerId{2}, c.epoch(2), c.state.applied_index(), 105000)
              .ok());
  RecordBatch fence = fresh.expired_brokers(c.state, 100000 + kSession);
  REQUIRE(fence.size() == 1);
  CHECK(std::get<FenceBrokerRecord>(fence.front()).broker_id == BrokerId{3});
}

TEST_CASE("registration: duplicates refused, restarts fence the old epoch") {
  Controller c;
  c.start_brokers(2, 0);
  c.create("t", 2, 2);
  BrokerEpoch old_epoch = c.epoch(1);

  // Another process claims id 1 while the first is alive: refused.
  Result<RecordBatch> dup = c.registry.handle_register(c.state, request(1, "other"), 1000);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == ErrorCode::kDuplicateBrokerId);
  CHECK(error_code_name(dup.error().code) == "duplicate_broker_id");

  SUBCASE("same incarnation re-registers: new epoch, old epoch fenced in the same step") {
    Result<RecordBatch> again = c.registry.handle_register(c.state, request(1), 1000);
    REQUIRE(again.ok());
    CHECK(std::holds_alternative<FenceBrokerRecord>(again.value().front()));
    CHECK(std::holds_alternative<RegisterBrokerRecord>(again.value().back()));
    c.commit(again.value());
  }
  SUBCASE("new incarnation after the old session expired") {
    c.heartbeat(2, 8000);
    Result<RecordBatch> restart = c.registry.handle_register(c.state, request(1, "new"), kSession);
    REQUIRE(restart.ok());
    c.commit(restart.value());
    CHECK(c.state.find_broker(BrokerId{1})->incarnation_id == "new");
  }
  CHECK(c.epoch(1) > old_epoch);
  CHECK(c.state.find_broker(BrokerId{1})->fenced);
  for (int i = 0; i < 2; ++i) CHECK(c.p("t", i).leader == BrokerId{2});
  // The old registration's heartbeats are refused.
  Result<HeartbeatDecision> stale =
      c.registry.handle_heartbeat(c.state, BrokerId{1}, old_epoch, c.state.applied_index(), 9500);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == ErrorCode::kStaleBrokerEpoch);
  CHECK(c.registry
            .handle_heartbeat(c.state, BrokerId{9}, BrokerEpoch{1}, c.state.applied_index(), 9500)
            .error()
            .code == ErrorCode::kUnknownBroker);
  // The new one unfences and, once back in the ISR, regains preferred leadership.
  c.heartbeat(1, 9500);
  CHECK_FALSE(c.state.find_broker(BrokerId{1})->fenced);
}

TEST_CASE("preferred leaders return once the preferred replica is back in the ISR") {
  Controller c;
  c.start_brokers(2, 0);
  c.create("t", 2, 2, 0);  // p0 [1,2], p1 [2,1]
  c.heartbeat(2, 8000);
  c.commit(c.registry.expired_brokers(c.state, kSession));
  c.heartbeat(1, kSession + 1);  // unfenced, but not in any ISR yet
  CHECK(preferred_leader_moves(c.state).empty());
  const PartitionState& p0 = c.p("t", 0);
  REQUIRE(p0.leader == BrokerId{2});
  Result<PartitionChangeRecord> expand =
      handle_alter_partition(c.state, {BrokerId{2},
                                       c.epoch(2),
                                       "t",
                                       PartitionId{0},
                                       p0.leader_epoch,
                                       p0.partition_epoch,
                                       {BrokerId{2}, BrokerId{1}}});
  REQUIRE(expand.ok());
  c.commit({expand.value()});
  RecordBatch moves = preferred_leader_moves(c.state);
  REQUIRE(moves.size() == 1);
  c.commit(moves);
  CHECK(c.p("t", 0).leader == BrokerId{1});
  CHECK(c.p("t", 1).leader == BrokerId{2});
  CHECK(preferred_leader_moves(c.state).empty());
}

TEST_CASE("controlled shutdown moves leaderships away and keeps the broker fenced") {
  Controller c;
  c.start_brokers(3, 0);
  c.create("t", 3, 2);
  Result<RecordBatch> shutdown =
      c.registry.controlled_shutdown(c.state, BrokerId{2}, c.epoch(2), 100);
  REQUIRE(shutdown.ok());
  // Asked again before the fence committed: not ready yet.
  Result<RecordBatch> early = c.registry.controlled_shutdown(c.state, BrokerId{2}, c.epoch(2), 150);
  REQUIRE(early.ok());
  CHECK_FALSE(early.value().empty());
  c.commit(shutdown.value());
  for (int i = 0; i < 3; ++i) {
    CHECK(c.p("t", i).leader != BrokerId{2});
    CHECK(c.p("t", i).leader != kNoLeader);
  }
  // It keeps heartbeating while it drains; it is not unfenced again.
  Result<HeartbeatDecision> hb =
      c.registry.handle_heartbeat(c.state, BrokerId{2}, c.epoch(2), c.state.applied_index(), 200);
  REQUIRE(hb.ok());
  CHECK(hb.value().fenced);
  CHECK(hb.value().propose.empty());
  // Asking again: nothing left to do, the broker may exit.
  Result<RecordBatch> again =
      c.registry.controlled_shutdown(c.state, BrokerId{2}, c.epoch(2), 5000);
  REQUIRE(again.ok());
  CHECK(again.value().empty());
}

TEST_CASE("AlterPartition requests are checked against the partition state") {
  Controller c;
  c.start_brokers(3, 0);
  c.create("t", 1, 3, 0);  // replicas [1, 2, 3], leader 1
  const PartitionState& p = c.p("t", 0);
  AlterPartitionRequest ok{BrokerId{1},
                           c.epoch(1),
                           "t",
                           PartitionId{0},
                           p.leader_epoch,
                           p.partition_epoch,
                           {BrokerId{1}, BrokerId{2}}};
  REQUIRE(handle_alter_partition(c.state, ok).ok());

  auto code = [&](AlterPartitionRequest r) {
    return handle_alter_partition(c.state, r).error().code;
  };
  AlterPartitionRequest r = ok;
  r.partition_epoch = PartitionEpoch{p.partition_epoch.value + 5};
  CHECK(code(r) == ErrorCode::kStalePartitionEpoch);
  r = ok;
  r.broker = BrokerId{2};
  r.broker_epoch = c.epoch(2);
  CHECK(code(r) == ErrorCode::kNotLeader);
  r = ok;
  r.leader_epoch = LeaderEpoch{7};
  CHECK(code(r) == ErrorCode::kNotLeader);
  r = ok;
  r.broker_epoch = BrokerEpoch{0};
  CHECK(code(r) == ErrorCode::kStaleBrokerEpoch);
  r = ok;
  r.new_isr = {BrokerId{2}};
  CHECK(code(r) == ErrorCode::kInvalidIsr);
  r = ok;
  r.new_isr = {BrokerId{1}, BrokerId{4}};
  CHECK(code(r) == ErrorCode::kInvalidIsr);
  r = ok;
  r.new_isr = {BrokerId{1}, BrokerId{1}};
  CHECK(code(r) == ErrorCode::kInvalidIsr);

  // Shrink to {1}, fence broker 3, then it may not rejoin while fenced.
  c.commit({handle_alter_partition(c.state, {BrokerId{1},
                                             c.epoch(1),
                                             "t",
                                             PartitionId{0},
                                             p.leader_epoch,
                                             p.partition_epoch,
                                             {BrokerId{1}}})
                .value()});
  c.heartbeat(1, 8000);
  c.heartbeat(2, 8000);
  c.commit(c.registry.expired_brokers(c.state, kSession));
  REQUIRE(c.state.find_broker(BrokerId{3})->fenced);
  AlterPartitionRequest join{BrokerId{1},
                             c.epoch(1),
                             "t",
                             PartitionId{0},
                             p.leader_epoch,
                             p.partition_epoch,
                             {BrokerId{1}, BrokerId{3}}};
  CHECK(code(join) == ErrorCode::kInvalidIsr);
}

TEST_CASE("a registered broker is unfenced only once it has applied its own registration") {
  Controller c;
  Result<RecordBatch> r = c.registry.handle_register(c.state, request(1), 0);
  REQUIRE(r.ok());
  c.commit(r.value());
  BrokerEpoch epoch = c.epoch(1);
  Result<HeartbeatDecision> behind = c.registry.handle_heartbeat(
      c.state, BrokerId{1}, epoch, LogIndex{uint64_t(epoch.value) - 1}, 10);
  REQUIRE(behind.ok());
  CHECK(behind.value().fenced);
  CHECK(behind.value().propose.empty());
  Result<HeartbeatDecision> caught_up =
      c.registry.handle_heartbeat(c.state, BrokerId{1}, epoch, LogIndex{uint64_t(epoch.value)}, 20);
  REQUIRE(caught_up.ok());
  REQUIRE(caught_up.value().propose.size() == 1);
  CHECK(std::holds_alternative<UnfenceBrokerRecord>(caught_up.value().propose.front()));
}

TEST_CASE("a broker whose process is gone is fenced at once, within its session") {
  Controller c;
  c.start_brokers(3, 0);
  c.create("t", 3, 3);
  // A new leader in its grace period: no session has expired.
  BrokerRegistry fresh(BrokerRegistry::Options{kSession, 2000, {}});
  fresh.reset_grace_period(c.state, 1000);
  CHECK(fresh.expired_brokers(c.state, 1001).empty());
  // A gone registration of an older epoch is not this broker any more.
  BrokerRegistry::Registration stale{BrokerId{2}, BrokerEpoch{c.epoch(2).value - 1}};
  CHECK(fresh.expired_brokers(c.state, 1002, {stale}).empty());
  RecordBatch fence = fresh.expired_brokers(c.state, 1003, {{BrokerId{2}, c.epoch(2)}});
  REQUIRE_FALSE(fence.empty());
  CHECK(std::get<FenceBrokerRecord>(fence.front()).broker_id == BrokerId{2});
  // While that fence is in flight it is not proposed again.
  CHECK(fresh.expired_brokers(c.state, 1004, {{BrokerId{2}, c.epoch(2)}}).empty());
  c.commit(fence);
  CHECK(c.state.find_broker(BrokerId{2})->fenced);
  for (int k = 0; k < 3; ++k) {
    CHECK_FALSE(contains(c.p("t", k).isr, 2));
    CHECK(c.p("t", k).leader != BrokerId{2});
  }
  // Brokers 1 and 3 are untouched.
  CHECK_FALSE(c.state.find_broker(BrokerId{1})->fenced);
  CHECK_FALSE(c.state.find_broker(BrokerId{3})->fenced);
}
