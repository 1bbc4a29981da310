// The small pure pieces of the core: quorum arithmetic, per-follower progress
// and its inflight window, the log's unstable tail, and message validation.

#include <doctest/doctest.h>

#include "raft/log.h"
#include "raft/progress.h"
#include "raft/quorum.h"
#include "raft_harness.h"

using namespace dmq::raft;
using namespace dmq::raft::test;

TEST_CASE("quorum: the value reached by a majority") {
  Voters v{N(1), N(2), N(3), N(4), N(5)};
  std::map<NodeId, uint64_t> match{{N(1), 9}, {N(2), 7}, {N(3), 3}, {N(4), 8}, {N(5), 1}};
  CHECK(quorum_value(v, [&](NodeId id) { return match[id]; }) == 7);
  Voters four{N(1), N(2), N(3), N(4)};
  CHECK(quorum_value(four, [&](NodeId id) { return match[id]; }) == 7);  // 3 of 4
  CHECK(quorum_value({}, [&](NodeId) { return uint64_t{5}; }) == 0);
}

TEST_CASE("quorum: vote tallies count only voters") {
  Voters v{N(1), N(2), N(3)};
  CHECK(tally_votes(v, {{N(1), true}}) == VoteResult::kPending);
  CHECK(tally_votes(v, {{N(1), true}, {N(9), true}}) == VoteResult::kPending);
  CHECK(tally_votes(v, {{N(1), true}, {N(2), true}}) == VoteResult::kWon);
  CHECK(tally_votes(v, {{N(1), true}, {N(2), false}, {N(3), false}}) == VoteResult::kLost);
}

TEST_CASE("progress: the inflight window pauses replication until acknowledged") {
  Progress pr(I(1), 3);
  pr.become_replicate();
  for (uint64_t last : {2, 4, 6}) {
    CHECK_FALSE(pr.is_paused());
    pr.optimistic_update(I(last));
    pr.inflights.add(I(last));
  }
  CHECK(pr.is_paused());
  CHECK(pr.maybe_update(I(4)));
  pr.inflights.free_to(I(4));
  CHECK(pr.inflights.count() == 1);
  CHECK_FALSE(pr.is_paused());
  CHECK(pr.next == I(7));
  CHECK_FALSE(pr.maybe_update(I(3)));  // stale acknowledgement
}

TEST_CASE("progress: stale rejections are ignored") {
  Progress pr(I(10), 4);
  pr.match = I(5);
  // Probe: only the answer to the outstanding probe (prev index 9) counts.
  CHECK_FALSE(pr.maybe_decrease_to(I(7), I(6)));
  CHECK(pr.maybe_decrease_to(I(9), I(7)));
  CHECK(pr.next == I(7));
  // Never below match + 1, whatever the hint says.
  pr.next = I(8);
  CHECK(pr.maybe_decrease_to(I(7), I(2)));
  CHECK(pr.next == I(6));
  // A rejection at or below match (a follower that lost data) changes nothing.
  pr.next = I(6);
  CHECK_FALSE(pr.maybe_decrease_to(I(5), I(1)));
}

TEST_CASE("log: an overwritten unstable tail is not marked stable by an old Ready") {
  MemoryStorage s({N(1)});  // entry 1, term 1
  RaftLog log(&s);
  log.append(
      {Entry{T(2), I(2), EntryType::kNormal, "a"}, Entry{T(2), I(3), EntryType::kNormal, "b"}});
  // A follower's tail is replaced by a later leader before the Ready is advanced.
  RaftLog::AppendResult r =
      log.maybe_append(I(1), T(1), I(1), {Entry{T(3), I(2), EntryType::kNormal, "c"}});
  CHECK(r.matched);
  CHECK(r.conflict == I(2));
  CHECK(log.last_index() == I(2));
  log.stable_to(I(3), T(2));  // the old Ready's last entry: ignored
  CHECK(log.unstable_entries().size() == 1);
  CHECK(log.stable_last_index() == I(1));
  log.stable_to(I(2), T(3));
  CHECK(log.unstable_entries().empty());
  CHECK(log.stable_last_index() == I(2));
}

TEST_CASE("append below the commit index: answered with the commit, log untouched") {
  MemoryStorage s({N(1), N(2)});  // entries 1 and 2 (term 1), committed
  Node n(test_config(2), &s);
  Message m;
  m.type = MessageType::kAppend;
  m.from = N(1);
  m.to = N(2);
  m.term = T(2);
  m.log_index = I(1);
  m.log_term = T(1);
  m.entries = {Entry{T(2), I(2), EntryType::kNormal, "x"}};
  REQUIRE(n.step(m) == StepResult::kOk);
  CHECK(n.term_at(I(2)) == T(1));
  Ready rd = n.ready();
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::kAppendResponse);
  CHECK_FALSE(rd.messages[0].reject);
  CHECK(rd.messages[0].index == I(2));
}

TEST_CASE("step: malformed messages are refused, never asserted on") {
  MemoryStorage s({N(1), N(2)});
  Node n(test_config(2), &s);
  Message m;
  m.type = MessageType::kAppend;
  m.from = N(1);
  m.to = N(2);
  m.term = T(2);
  m.log_index = I(2);
  m.log_term = T(1);
  m.entries = {Entry{T(2), I(5), EntryType::kNormal, "gap"}};
  CHECK(n.step(m) == StepResult::kMalformed);
  m.entries = {Entry{T(9), I(3), EntryType::kNormal, "future term"}};
  CHECK(n.step(m) == StepResult::kMalformed);
  m.entries.clear();
  m.type = static_cast<MessageType>(200);
  CHECK(n.step(m) == StepResult::kMalformed);
  m.type = MessageType::kHeartbeat;
  m.to = N(7);
  CHECK(n.step(m) == StepResult::kIgnored);
  CHECK(n.term() == T(1));
}

TEST_CASE("voter entries: payloads that are not ids change nothing") {
  CHECK(decode_node_id("12") == N(12));
  CHECK_FALSE(decode_node_id("").has_value());
  CHECK_FALSE(decode_node_id("0").has_value());
  CHECK_FALSE(decode_node_id("3x").has_value());
  Voters v{N(1)};
  CHECK_FALSE(apply_voter_change(v, Entry{T(1), I(1), EntryType::kAddVoter, "junk"}));
  CHECK(apply_voter_change(v, Entry{T(1), I(1), EntryType::kAddVoter, "2"}));
  CHECK(v == Voters{N(1), N(2)});
}
