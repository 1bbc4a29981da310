// Linearizable reads with ReadIndex (thesis §6.4).

#include <doctest/doctest.h>

#include "raft_harness.h"

using namespace dmq::raft;
using namespace dmq::raft::test;

TEST_CASE("ReadIndex §6.4: the read returns the commit index after a heartbeat round") {
  Cluster c(3);
  c.elect(1);
  c.node(1).propose("a");
  c.deliver();
  c.tick_all(1);
  LogIndex commit = c.node(1).status().commit;
  REQUIRE(c.node(1).read_index("r1") == ProposeError::kOk);
  // Before the heartbeat round is answered there is nothing to return.
  std::vector<Message> msgs = c.take_messages();
  CHECK(c.test_node(1).reads.empty());
  size_t heartbeats = 0;
  for (const Message& m : msgs) heartbeats += m.type == MessageType::kHeartbeat;
  CHECK(heartbeats == 2);
  for (Message& m : msgs) c.node(m.to.value).step(m);
  c.deliver();
  REQUIRE(c.test_node(1).reads.size() == 1);
  CHECK(c.test_node(1).reads[0] == ReadState{"r1", commit});
}

TEST_CASE("ReadIndex §6.4: a leader cut off from the majority returns no read") {
  Cluster c(3);
  c.elect(1);
  c.tick_all(1);
  c.drop = [](Message& m) { return m.type == MessageType::kHeartbeatResponse; };
  REQUIRE(c.node(1).read_index("r") == ProposeError::kOk);
  c.deliver();
  CHECK(c.test_node(1).reads.empty());
  // One answer is enough with the leader itself: a majority of 3.
  c.drop = [](Message& m) { return m.type == MessageType::kHeartbeatResponse && m.from == N(3); };
  c.tick_all(1);
  CHECK(c.test_node(1).reads.size() == 1);
}

TEST_CASE("ReadIndex §6.4: a new leader answers only after committing an entry of its term") {
  Cluster c(3);
  c.drop = [](Message& m) { return m.type == MessageType::kAppendResponse; };
  c.node(1).campaign();
  c.deliver();
  REQUIRE(c.node(1).role() == Role::kLeader);
  REQUIRE(c.node(1).read_index("early") == ProposeError::kOk);
  c.tick_all(2);
  CHECK(c.test_node(1).reads.empty());  // the no-op is not committed
  c.drop = nullptr;
  c.tick_all(2);
  REQUIRE(c.test_node(1).reads.size() == 1);
  CHECK(c.test_node(1).reads[0].index >= I(4));  // the no-op after 3 bootstrap entries
  CHECK(c.node(2).read_index("x") == ProposeError::kNotLeader);
}
