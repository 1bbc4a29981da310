// Leadership transfer (thesis §3.10).

#include <doctest/doctest.h>

#include "raft_harness.h"

using namespace dmq::raft;
using namespace dmq::raft::test;

TEST_CASE("transfer §3.10: an up-to-date target is told TimeoutNow and wins at once") {
  Cluster c(3);
  c.elect(1);
  c.tick_all(1);
  Term t = c.node(1).term();
  REQUIRE(c.node(1).transfer_leadership(N(3)) == ProposeError::kOk);
  c.deliver();
  CHECK(c.delivered(MessageType::kTimeoutNow) == 1);
  CHECK(c.node(3).role() == Role::kLeader);
  CHECK(c.node(3).term() == Term{t.value + 1});
  CHECK(c.node(1).role() == Role::kFollower);
  CHECK(c.node(1).leader() == N(3));
}

TEST_CASE("transfer §3.10: a lagging target is caught up first; proposals wait") {
  Cluster c(3);
  c.elect(1);
  c.drop = [](Message& m) { return m.to == N(3) && m.type == MessageType::kAppend; };
  for (int i = 0; i < 5; ++i) c.node(1).propose("x");
  c.deliver();
  c.drop = nullptr;
  REQUIRE(c.node(1).transfer_leadership(N(3)) == ProposeError::kOk);
  CHECK(c.node(1).propose("during").error == ProposeError::kTransferring);
  c.deliver();
  c.tick_all(3);
  CHECK(c.node(3).role() == Role::kLeader);
  CHECK(c.node(3).status().last_index >= I(3 + 1 + 5));
}

TEST_CASE("transfer §3.10: an unreachable target makes the transfer expire") {
  Cluster c(3);
  c.elect(1);
  c.drop = [](Message& m) { return m.to == N(3) || m.from == N(3); };
  c.node(1).propose("x");
  c.deliver();
  REQUIRE(c.node(1).transfer_leadership(N(3)) == ProposeError::kOk);
  CHECK(c.node(1).status().transferee == N(3));
  c.tick_all(10);
  CHECK(c.node(1).role() == Role::kLeader);
  CHECK(c.node(1).status().transferee == kNoNode);
  CHECK(c.node(1).propose("y").error == ProposeError::kOk);
}

TEST_CASE("transfer: invalid targets are refused") {
  Cluster c(3);
  c.elect(1);
  CHECK(c.node(1).transfer_leadership(N(1)) == ProposeError::kInvalid);
  CHECK(c.node(1).transfer_leadership(N(7)) == ProposeError::kInvalid);
  CHECK(c.node(2).transfer_leadership(N(3)) == ProposeError::kNotLeader);
}
