// Leader election (Raft paper §5.2, §5.4.1) and persistence of term and vote.

#include <doctest/doctest.h>

#include "raft_harness.h"

using namespace dmq::raft;
using namespace dmq::raft::test;

namespace {

Message vote_request(uint64_t from, uint64_t to, uint64_t term, uint64_t last_index,
                     uint64_t last_term) {
  Message m;
  m.type = MessageType::kVote;
  m.from = N(from);
  m.to = N(to);
  m.term = T(term);
  m.log_index = I(last_index);
  m.log_term = T(last_term);
  return m;
}

const Message* find_message(const std::vector<Message>& msgs, MessageType t, uint64_t to) {
  for (const Message& m : msgs) {
    if (m.type == t && m.to == N(to)) return &m;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("election §5.2: silence leads to exactly one leader, elected by a majority") {
  Cluster c(3);
  int leaders = 0;
  for (int t = 0; t < 40 && leaders == 0; ++t) {
    c.tick_all();
    leaders = 0;
    for (uint64_t i = 1; i <= 3; ++i) leaders += c.node(i).role() == Role::kLeader;
  }
  CHECK(leaders == 1);
  uint64_t leader = 0;
  for (uint64_t i = 1; i <= 3; ++i) {
    if (c.node(i).role() == Role::kLeader) leader = i;
  }
  for (uint64_t i = 1; i <= 3; ++i) {
    CHECK(c.node(i).leader() == N(leader));
    CHECK(c.node(i).term() == c.node(leader).term());
  }
  // The new leader's no-op commits everywhere (Raft §8).
  c.tick_all(2);
  for (uint64_t i = 1; i <= 3; ++i)
    CHECK(c.node(i).status().commit == I(4));  // 3 bootstrap entries
}

TEST_CASE("election §5.2: randomized timeout lies in [election_tick, 2*election_tick)") {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    MemoryStorage s({N(1), N(2), N(3)});
    Config cfg = test_config(1);
    cfg.seed = seed;
    cfg.pre_vote = false;
    Node n(cfg, &s);
    int ticks = 0;
    while (n.role() == Role::kFollower && ticks < 100) {
      n.tick();
      ++ticks;
    }
    CHECK(ticks >= cfg.election_tick);
    CHECK(ticks < 2 * cfg.election_tick);
    CHECK(n.role() == Role::kCandidate);
  }
}

TEST_CASE("election §5.2: a node never votes twice in a term, even across a restart") {
  MemoryStorage s({N(1), N(2), N(3)});
  Config cfg = test_config(3);
  auto node = std::make_unique<Node>(cfg, &s);
  node->step(vote_request(1, 3, 5, 3, 1));
  Ready rd = node->ready();
  REQUIRE(rd.hard_state);
  CHECK(rd.hard_state->vote == N(1));
  CHECK(rd.hard_state->term == T(5));
  const Message* resp = find_message(rd.messages, MessageType::kVoteResponse, 1);
  REQUIRE(resp != nullptr);
  CHECK_FALSE(resp->reject);
  s.set_hard_state(*rd.hard_state);
  node->advance(rd);

  node->step(vote_request(2, 3, 5, 3, 1));
  rd = node->ready();
  resp = find_message(rd.messages, MessageType::kVoteResponse, 2);
  REQUIRE(resp != nullptr);
  CHECK(resp->reject);
  node->advance(rd);

  // Restarted from storage: the vote is remembered.
  node = std::make_unique<Node>(cfg, &s);
  CHECK(node->term() == T(5));
  CHECK(node->status().vote == N(1));
  node->step(vote_request(2, 3, 5, 3, 1));
  rd = node->ready();
  resp = find_message(rd.messages, MessageType::kVoteResponse, 2);
  REQUIRE(resp != nullptr);
  CHECK(resp->reject);
}

TEST_CASE("election §5.4.1: a voter refuses a candidate whose log is less up to date") {
  Cluster c(3);
  c.elect(1);
  c.node(1).propose("a");
  c.deliver();
  REQUIRE(c.node(3).status().last_index == I(5));
  // Candidate 2 claims an empty log at a higher term.
  c.node(3).step(vote_request(2, 3, 9, 0, 0));
  std::vector<Message> msgs = c.take_messages();
  const Message* resp = find_message(msgs, MessageType::kVoteResponse, 2);
  // Node 3 is inside node 1's lease, so it ignores the request altogether;
  // out of lease it would answer with a rejection. Either way, no grant.
  CHECK((resp == nullptr || resp->reject));
  CHECK(c.node(3).status().vote != N(2));
}

TEST_CASE("election: a stale-log candidate is rejected once no lease protects the voter") {
  Cluster c(3, [](Config& cfg) { cfg.check_quorum = false; });
  c.elect(1);
  c.node(1).propose("a");
  c.deliver();
  c.node(3).step(vote_request(2, 3, 9, 4, 1));
  std::vector<Message> msgs = c.take_messages();
  const Message* resp = find_message(msgs, MessageType::kVoteResponse, 2);
  REQUIRE(resp != nullptr);
  CHECK(resp->reject);
  CHECK(c.node(3).term() == T(9));  // the term is still adopted (Raft §5.1)
}

TEST_CASE("restart: a node resumes term, vote, log and commit from storage") {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 5; ++i) c.node(1).propose("v" + std::to_string(i));
  c.deliver();
  c.tick_all(1);
  Status before = c.node(2).status();
  c.restart(2);
  Status after = c.node(2).status();
  CHECK(after.term == before.term);
  CHECK(after.vote == before.vote);
  CHECK(after.last_index == before.last_index);
  CHECK(after.commit == before.commit);
  CHECK(after.applied == before.applied);  // Config::applied: nothing applied twice
  CHECK(c.node(2).role() == Role::kFollower);
  CHECK_FALSE(c.node(2).has_ready());
}

TEST_CASE("election: a single voter elects itself and commits alone") {
  Cluster c(1);
  c.tick_all(25);
  REQUIRE(c.node(1).role() == Role::kLeader);
  ProposeResult r = c.node(1).propose("x");
  REQUIRE(r.error == ProposeError::kOk);
  c.deliver();
  CHECK(normal_data(c.test_node(1).applied) == std::vector<std::string>{"x"});
}
