// Log compaction and chunked InstallSnapshot (Raft §7).

#include <doctest/doctest.h>

#include "raft_harness.h"

using namespace dmq::raft;
using namespace dmq::raft::test;

namespace {

// Compacts node `id`'s log up to what it applied, with `data` as the image.
void snapshot_and_compact(Cluster& c, uint64_t id, const std::string& data) {
  TestNode& tn = c.test_node(id);
  LogIndex applied = tn.node->status().applied;
  tn.storage->create_snapshot(tn.node->snapshot_meta(applied), data);
  tn.storage->compact(applied);
}

}  // namespace

TEST_CASE("MemoryStorage: compaction keeps the boundary term and the voters there") {
  MemoryStorage s({N(1), N(2)});  // bootstrap entries 1 and 2
  CHECK(s.initial_state().voters.empty());
  CHECK(s.initial_state().hard_state == HardState{T(1), kNoNode, I(2)});
  s.append({Entry{T(1), I(3), EntryType::kNormal, "a"},
            Entry{T(1), I(4), EntryType::kAddVoter, encode_node_id(N(3))},
            Entry{T(2), I(5), EntryType::kNormal, "c"}});
  // Compacting below the snapshot replays voter entries into the base.
  s.create_snapshot(SnapshotMeta{I(4), T(1), {N(1), N(2), N(3)}}, "img");
  s.compact(I(3));
  CHECK(s.initial_state().voters == std::vector<NodeId>{N(1), N(2)});
  s.compact(I(4));
  CHECK(s.first_index() == I(5));
  CHECK(s.term(I(4)) == T(1));
  CHECK(s.initial_state().voters == std::vector<NodeId>{N(1), N(2), N(3)});
  CHECK(s.entries(I(5), I(6), 100).size() == 1);
  // Appending over the tail truncates it.
  s.append({Entry{T(3), I(5), EntryType::kNormal, "d"}});
  CHECK(s.last_index() == I(5));
  CHECK(s.term(I(5)) == T(3));
}

TEST_CASE("snapshot §7: a follower behind the compacted log gets the snapshot in chunks") {
  Cluster c(3, [](Config& cfg) { cfg.snapshot_chunk_bytes = 10; });
  c.elect(1);
  c.drop = [](Message& m) { return m.to == N(3) || m.from == N(3); };
  for (int i = 0; i < 20; ++i) c.node(1).propose("v" + std::to_string(i));
  c.deliver();
  c.tick_all(1);
  REQUIRE(c.node(1).status().applied == I(3 + 1 + 20));  // bootstrap, no-op, proposals
  std::string image(95, 's');
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>('a' + i % 26);
  snapshot_and_compact(c, 1, image);
  REQUIRE(c.storage(1).first_index() == I(25));

  size_t chunks = 0;
  bool dropped_one = false;
  c.drop = [&](Message& m) {
    if (m.type != MessageType::kSnapshot) return false;
    // Lose the third chunk once: the heartbeat timer must resend it.
    if (m.snapshot_offset == 20 && !dropped_one) {
      dropped_one = true;
      return true;
    }
    ++chunks;
    return false;
  };
  c.tick_all(5);
  CHECK(dropped_one);
  CHECK(chunks == 10);
  CHECK(c.test_node(3).installed.data == image);
  CHECK(c.test_node(3).installed.meta.index == I(24));
  CHECK(c.storage(3).first_index() == I(25));
  // Replication continues after the snapshot.
  c.node(1).propose("after");
  c.deliver();
  c.tick_all(1);
  CHECK(normal_data(c.test_node(3).applied) == std::vector<std::string>{"after"});
  CHECK(c.node(3).status().commit == c.node(1).status().commit);
}

TEST_CASE("snapshot §7: restart after compaction resumes from the snapshot") {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 5; ++i) c.node(1).propose("v");
  c.deliver();
  c.tick_all(1);
  snapshot_and_compact(c, 2, "img");
  c.restart(2);
  Status s = c.node(2).status();
  CHECK(s.first_index == I(3 + 1 + 5 + 1));
  CHECK(s.applied == I(3 + 1 + 5));
  CHECK(s.voters == std::vector<NodeId>{N(1), N(2), N(3)});
  c.node(1).propose("w");
  c.deliver();
  c.tick_all(1);
  CHECK(c.node(2).status().commit == I(3 + 1 + 5 + 1));
}

TEST_CASE("snapshot §7: a chunk of an unknown snapshot is answered with offset 0") {
  MemoryStorage s({N(1), N(2)});
  Node n(test_config(2), &s);
  Message m;
  m.type = MessageType::kSnapshot;
  m.from = N(1);
  m.to = N(2);
  m.term = T(1);
  m.snapshot_meta = SnapshotMeta{I(10), T(1), {N(1), N(2)}};
  m.snapshot_offset = 30;
  m.snapshot_data = "xyz";
  REQUIRE(n.step(m) == StepResult::kOk);
  Ready rd = n.ready();
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::kSnapshotResponse);
  CHECK(rd.messages[0].snapshot_offset == 0);
  CHECK_FALSE(rd.snapshot.has_value());
}
