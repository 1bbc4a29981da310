// Single-server membership changes (thesis §4.1-4.2).

#include <doctest/doctest.h>

#include "raft_harness.h"

using namespace dmq::raft;
using namespace dmq::raft::test;

namespace {
std::vector<NodeId> ids(std::initializer_list<uint64_t> v) {
  std::vector<NodeId> out;
  for (uint64_t i : v) out.push_back(N(i));
  return out;
}
}  // namespace

TEST_CASE("membership §4.1: a new voter is used as soon as its entry is appended") {
  Cluster c(3);
  c.elect(1);
  c.tick_all(1);
  c.add_node(4, std::vector<NodeId>{});
  ProposeResult r = c.node(1).propose_add_voter(N(4));
  REQUIRE(r.error == ProposeError::kOk);
  CHECK(c.node(1).status().voters == ids({1, 2, 3, 4}));  // before commit
  // Only one change at a time.
  CHECK(c.node(1).propose_add_voter(N(5)).error == ProposeError::kConfigChangePending);
  c.deliver();
  c.tick_all(2);
  for (uint64_t i = 1; i <= 4; ++i) CHECK(c.node(i).status().voters == ids({1, 2, 3, 4}));
  CHECK(c.node(4).status().commit == c.node(1).status().commit);
  // The quorum is now 3 of 4: with two nodes down nothing commits.
  c.isolate(3);
  c.isolate(4);
  LogIndex before = c.node(1).status().commit;
  c.node(1).propose("x");
  c.deliver();
  CHECK(c.node(1).status().commit == before);
}

TEST_CASE("membership §4.1: invalid changes are refused") {
  Cluster c(3);
  c.elect(1);
  c.tick_all(1);
  CHECK(c.node(1).propose_add_voter(N(2)).error == ProposeError::kInvalid);
  CHECK(c.node(1).propose_remove_voter(N(9)).error == ProposeError::kInvalid);
  CHECK(c.node(2).propose_add_voter(N(9)).error == ProposeError::kNotLeader);
}

TEST_CASE("membership: a change waits until the leader committed an entry of its term") {
  Cluster c(3);
  c.drop = [](Message& m) { return m.type == MessageType::kAppendResponse; };
  c.elect(1);
  CHECK(c.node(1).propose_add_voter(N(4)).error == ProposeError::kConfigChangePending);
}

TEST_CASE("membership: replace a dead controller (remove 3, add 4)") {
  Cluster c(3);
  c.elect(1);
  c.tick_all(1);
  c.isolate(3);
  REQUIRE(c.node(1).propose_remove_voter(N(3)).error == ProposeError::kOk);
  c.deliver();
  c.tick_all(1);
  CHECK(c.node(2).status().voters == ids({1, 2}));
  c.add_node(4, std::vector<NodeId>{});
  REQUIRE(c.node(1).propose_add_voter(N(4)).error == ProposeError::kOk);
  c.deliver();
  c.tick_all(2);
  CHECK(c.node(4).status().voters == ids({1, 2, 4}));
  c.node(1).propose("after");
  c.deliver();
  c.tick_all(1);
  CHECK(normal_data(c.test_node(4).applied) == std::vector<std::string>{"after"});
  // Node 4 is a full voter: with 1 gone, 2 and 4 elect a leader.
  c.isolate(1);
  c.tick_all(50);
  CHECK((c.node(2).role() == Role::kLeader || c.node(4).role() == Role::kLeader));
}

TEST_CASE("membership §4.2.2: a leader removing itself steps down after the commit") {
  Cluster c(3);
  c.elect(1);
  c.tick_all(1);
  REQUIRE(c.node(1).propose_remove_voter(N(1)).error == ProposeError::kOk);
  CHECK(c.node(1).role() == Role::kLeader);  // still leading while uncommitted
  c.deliver();
  CHECK(c.node(1).role() == Role::kFollower);
  c.tick_all(60);
  CHECK(c.node(1).role() == Role::kFollower);  // not a voter: never campaigns
  CHECK((c.node(2).role() == Role::kLeader || c.node(3).role() == Role::kLeader));
  CHECK(c.node(2).status().voters == ids({2, 3}));
}

TEST_CASE("membership §4.1: a follower reverts a change whose entry is overwritten") {
  MemoryStorage storage({N(1), N(2), N(3)});  // entries 1..3, committed
  Node n(test_config(2), &storage);
  Message m;
  m.type = MessageType::kAppend;
  m.from = N(1);
  m.to = N(2);
  m.term = T(2);
  m.log_index = I(3);
  m.log_term = T(1);
  m.commit = I(3);
  m.entries = {Entry{T(2), I(4), EntryType::kAddVoter, encode_node_id(N(4))}};
  REQUIRE(n.step(m) == StepResult::kOk);
  CHECK(n.status().voters == ids({1, 2, 3, 4}));
  // A leader of a later term never had that entry and overwrites it.
  m.from = N(3);
  m.term = T(3);
  m.entries = {Entry{T(3), I(4), EntryType::kNormal, "x"}};
  REQUIRE(n.step(m) == StepResult::kOk);
  CHECK(n.status().voters == ids({1, 2, 3}));
  CHECK(n.status().last_index == I(4));
}
