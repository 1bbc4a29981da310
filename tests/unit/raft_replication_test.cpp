// Log replication (Raft §5.3), fast backtracking, the commit rule for
// earlier-term entries (§5.4.2, Figure 8), pipelining and batching limits.

#include <doctest/doctest.h>

#include "raft_harness.h"

using namespace dmq::raft;
using namespace dmq::raft::test;

namespace {

// A bootstrapped storage (entries 1..voters.size()), followed by entries
// whose terms are `terms`; `commit` counts from the first of those (0 = only
// the bootstrap entries are committed).
std::unique_ptr<MemoryStorage> storage_with(std::vector<uint64_t> terms, uint64_t term,
                                            uint64_t commit, std::vector<NodeId> voters) {
  uint64_t base = voters.size();
  auto s = std::make_unique<MemoryStorage>(std::move(voters));
  std::vector<Entry> entries;
  for (size_t i = 0; i < terms.size(); ++i) {
    entries.push_back(
        Entry{T(terms[i]), I(base + i + 1), EntryType::kNormal, "e" + std::to_string(i + 1)});
  }
  s->append(entries);
  s->set_hard_state(HardState{T(term), kNoNode, I(base + commit)});
  return s;
}

std::vector<uint64_t> run(uint64_t term, size_t count) {
  return std::vector<uint64_t>(count, term);
}

std::vector<uint64_t> concat(std::vector<uint64_t> a, const std::vector<uint64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("replication §5.3: entries reach every follower and commit in order") {
  Cluster c(5);
  c.elect(1);
  for (int i = 0; i < 20; ++i)
    REQUIRE(c.node(1).propose("v" + std::to_string(i)).error == ProposeError::kOk);
  c.deliver();
  c.tick_all(1);
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) expected.push_back("v" + std::to_string(i));
  for (uint64_t i = 1; i <= 5; ++i) {
    CHECK(normal_data(c.test_node(i).applied) == expected);
    CHECK(c.storage(i).last_index() == I(5 + 1 + 20));
  }
}

TEST_CASE("replication §5.3: a follower's conflicting suffix is overwritten") {
  Cluster c;
  std::vector<NodeId> v{N(1), N(2), N(3)};
  c.add_node(1, storage_with(concat(run(1, 3), run(3, 2)), 3, 3, v));
  c.add_node(2, storage_with(concat(run(1, 3), run(2, 4)), 2, 3, v));
  c.add_node(3, storage_with(run(1, 3), 1, 3, v));
  c.elect(1);
  c.tick_all(2);
  CHECK(c.storage(2).last_index() == I(3 + 6));
  CHECK(c.storage(2).term(I(3 + 4)) == T(3));
  CHECK(c.storage(2).term(I(3 + 6)) == c.node(1).term());
  CHECK(c.node(2).status().commit == I(3 + 6));
}

TEST_CASE("fast backtracking: one rejection skips a whole conflicting term") {
  std::vector<NodeId> v{N(1), N(2), N(3)};
  SUBCASE("leader lacks the follower's term: jump to its first index") {
    Cluster c;
    c.add_node(1, storage_with(concat(run(1, 10), run(3, 50)), 3, 10, v));
    c.add_node(2, storage_with(concat(run(1, 10), run(2, 50)), 2, 10, v));
    c.add_node(3, storage_with(concat(run(1, 10), run(3, 50)), 3, 10, v));
    size_t rejects = 0;
    c.drop = [&](Message& m) {
      if (m.type == MessageType::kAppendResponse && m.reject && m.from == N(2)) ++rejects;
      return false;
    };
    c.elect(1);
    c.tick_all(2);
    CHECK(rejects == 1);
    CHECK(c.storage(2).term(I(3 + 11)) == T(3));
    CHECK(c.storage(2).last_index() == I(3 + 61));
  }
  SUBCASE("leader has the follower's term: jump past its own last entry of it") {
    Cluster c;
    c.add_node(1, storage_with(concat(run(1, 10), concat(run(2, 20), run(3, 30))), 3, 10, v));
    c.add_node(2, storage_with(concat(run(1, 10), run(2, 50)), 2, 10, v));
    c.add_node(3, storage_with(concat(run(1, 10), concat(run(2, 20), run(3, 30))), 3, 10, v));
    size_t rejects = 0;
    size_t resent = 0;
    c.drop = [&](Message& m) {
      if (m.type == MessageType::kAppendResponse && m.reject && m.from == N(2)) ++rejects;
      if (m.type == MessageType::kAppend && m.to == N(2) && m.log_index == I(3 + 30)) ++resent;
      return false;
    };
    c.elect(1);
    c.tick_all(2);
    CHECK(rejects == 1);
    CHECK(resent >= 1);  // retried right after the last shared term-2 entry
    CHECK(c.storage(2).term(I(3 + 31)) == T(3));
  }
}

TEST_CASE("commit rule §5.4.2 (Figure 8): an earlier-term entry is not committed by counting") {
  for (bool unsafe : {false, true}) {
    CAPTURE(unsafe);
    std::vector<NodeId> v{N(1), N(2), N(3), N(4), N(5)};
    Cluster c;
    c.tweak = [unsafe](Config& cfg) {
      cfg.max_entries_bytes = 1;  // one entry per append, so index 2 travels alone
      cfg.unsafe_commit_previous_term_by_counting = unsafe;
    };
    c.add_node(1, storage_with({1, 2}, 3, 1, v));
    c.add_node(2, storage_with({1, 2}, 3, 1, v));
    c.add_node(3, storage_with({1}, 3, 1, v));
    c.add_node(4, storage_with({1}, 3, 1, v));
    c.add_node(5, storage_with({1, 3}, 3, 1, v));
    // The leader's no-op of its term (entry 3) is held back from everyone.
    c.drop = [](Message& m) {
      if (m.type == MessageType::kVote && m.to == N(5)) return true;
      if (m.type == MessageType::kAppend) {
        while (!m.entries.empty() && m.entries.back().index >= I(5 + 3)) m.entries.pop_back();
      }
      return false;
    };
    c.node(1).campaign();
    c.deliver();
    REQUIRE(c.node(1).role() == Role::kLeader);
    REQUIRE(c.node(1).term() == T(4));
    c.tick_all(3);
    // Entry 2 (term 2) is on 1, 2 and 3: a majority, but of an earlier term.
    // (Indexes below are offset by the 5 bootstrap entries.)
    REQUIRE(c.storage(3).last_index() == I(5 + 2));
    if (unsafe) {
      CHECK(c.node(1).status().commit == I(5 + 2));  // the hook breaks the rule
    } else {
      CHECK(c.node(1).status().commit == I(5 + 1));
      // Node 5 could still be elected and overwrite entry 2: that is why.
    }
    // Once an entry of term 4 reaches a majority, both commit.
    c.drop = nullptr;
    c.tick_all(3);
    CHECK(c.node(1).status().commit == I(5 + 3));
  }
}

TEST_CASE("pipelining: at most max_inflight appends are in flight to a silent follower") {
  Cluster c(3, [](Config& cfg) { cfg.max_inflight = 4; });
  c.elect(1);
  c.tick_all(1);
  size_t appends_to_2 = 0;
  c.drop = [&](Message& m) {
    if (m.type == MessageType::kAppend && m.to == N(2) && !m.entries.empty()) ++appends_to_2;
    return m.from == N(2);  // node 2 receives but its answers are lost
  };
  for (int i = 0; i < 10; ++i) {
    c.node(1).propose("p" + std::to_string(i));
    c.deliver();
  }
  CHECK(appends_to_2 == 4);
  c.drop = nullptr;
  c.tick_all(3);
  CHECK(normal_data(c.test_node(2).applied).size() == 10);
}

TEST_CASE("batching: an append carries at most max_entries_bytes (but at least one entry)") {
  Cluster c(3, [](Config& cfg) { cfg.max_entries_bytes = 200; });
  c.elect(1);
  c.tick_all(1);
  size_t max_bytes_seen = 0;
  size_t batches = 0;
  c.drop = [&](Message& m) {
    if (m.type != MessageType::kAppend || m.entries.empty()) return false;
    size_t bytes = 0;
    for (const Entry& e : m.entries) bytes += e.size_bytes();
    if (m.entries.size() > 1) max_bytes_seen = std::max(max_bytes_seen, bytes);
    ++batches;
    return false;
  };
  for (int i = 0; i < 20; ++i) c.node(1).propose(std::string(50, 'x'));
  c.node(1).propose(std::string(500, 'y'));  // larger than the limit alone
  c.deliver();
  c.tick_all(2);
  CHECK(max_bytes_seen <= 200);
  CHECK(max_bytes_seen > 0);  // several entries do share a message
  CHECK(batches >= 2 * 7);
  CHECK(normal_data(c.test_node(3).applied).size() == 21);
}
