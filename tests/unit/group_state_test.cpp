// The pure group state machine (src/group/group.h) against Kafka's classic
// group protocol rules (GroupCoordinator.scala, KIP-345, KIP-394, KIP-211).
#include <doctest/doctest.h>

#include <memory>

#include "group/group.h"

using namespace dmq::group;

namespace {

GroupConfig config() {
  auto counter = std::make_shared<int>(0);
  GroupConfig c;
  c.min_session_timeout_ms = 1000;
  c.max_session_timeout_ms = 60000;
  c.initial_rebalance_delay_ms = 300;
  c.new_uuid = [counter] { return "u" + std::to_string(++*counter); };
  return c;
}

JoinParams join(std::string member_id, std::vector<std::string> protocols = {"range"},
                bool v4 = true) {
  JoinParams p;
  p.member_id = std::move(member_id);
  p.client_id = "c";
  p.client_host = "/127.0.0.1";
  p.session_timeout_ms = 6000;
  p.rebalance_timeout_ms = 10000;
  p.protocol_type = "consumer";
  for (auto& name : protocols) p.protocols.push_back(Protocol{name, "meta-" + name});
  p.require_known_member_id = v4;
  return p;
}

TimeMs ms(int64_t v) {
  return TimeMs(v);
}

const JoinAnswer* join_reply(const std::vector<Reply>& replies, Token token) {
  for (const auto& r : replies)
    if (r.token == token) return std::get_if<JoinAnswer>(&r.answer);
  return nullptr;
}
const SyncAnswer* sync_reply(const std::vector<Reply>& replies, Token token) {
  for (const auto& r : replies)
    if (r.token == token) return std::get_if<SyncAnswer>(&r.answer);
  return nullptr;
}

// Joins `n` members (KIP-394 two-step join) during the initial delay, lets the
// delays expire (the join completes at now + 300 for one member, now + 600 for more); returns their
// member ids in token order (tokens 1..n).
std::vector<std::string> form_group(Group& g, int n, TimeMs now,
                                    std::vector<Reply>* replies_out = nullptr) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto first = g.handle_join(join(""), 100 + i, now);
    REQUIRE(first);
    REQUIRE(first->error == Error::kMemberIdRequired);
    auto parked = g.handle_join(join(first->member_id), static_cast<Token>(i + 1), now);
    REQUIRE_FALSE(parked);
    ids.push_back(first->member_id);
  }
  // Members joining during the initial delay extend it once more.
  g.tick(now + ms(300));
  g.tick(now + ms(600));
  auto replies = g.take_replies();
  REQUIRE(replies.size() == static_cast<size_t>(n));
  if (replies_out) *replies_out = replies;
  return ids;
}

// Forms a Stable group: the leader assigns "a-<member>" to every member.
std::vector<std::string> stable_group(Group& g, int n, TimeMs now) {
  auto ids = form_group(g, n, now);
  std::map<std::string, std::string> assignments;
  for (auto& id : ids) assignments[id] = "a-" + id;
  for (size_t i = 0; i < ids.size(); ++i) {
    SyncParams s;
    s.member_id = ids[i];
    s.generation_id = g.generation_id();
    if (ids[i] == *g.leader_id()) s.assignments = assignments;
    g.handle_sync(s, 50 + i, now);
  }
  REQUIRE(g.state() == GroupState::kStable);
  g.take_replies();
  g.clear_metadata_dirty();
  return ids;
}

}  // namespace

TEST_CASE("a v4 JoinGroup without member id gets MEMBER_ID_REQUIRED and a fresh id") {
  Group g("g", config());
  auto a = g.handle_join(join(""), 1, ms(0));
  REQUIRE(a);
  CHECK(a->error == Error::kMemberIdRequired);
  CHECK(a->member_id == "c-u1");
  CHECK(g.state() == GroupState::kEmpty);
  // Before v4 the member is added right away and parked.
  CHECK_FALSE(g.handle_join(join("", {"range"}, false), 2, ms(0)));
  CHECK(g.state() == GroupState::kPreparingRebalance);
}

TEST_CASE("the first join waits for group.initial.rebalance.delay.ms, then completes") {
  Group g("g", config());
  auto id = g.handle_join(join(""), 9, ms(0))->member_id;
  CHECK_FALSE(g.handle_join(join(id), 1, ms(0)));
  g.tick(ms(299));
  CHECK(g.take_replies().empty());
  CHECK(g.state() == GroupState::kPreparingRebalance);
  g.tick(ms(300));
  auto replies = g.take_replies();
  REQUIRE(replies.size() == 1);
  auto* a = join_reply(replies, 1);
  REQUIRE(a);
  CHECK(a->error == Error::kNone);
  CHECK(a->generation_id == 1);
  CHECK(a->leader_id == id);
  CHECK(a->protocol_name == "range");
  REQUIRE(a->members.size() == 1);
  CHECK(a->members[0].metadata == "meta-range");
  CHECK(g.state() == GroupState::kCompletingRebalance);
}

TEST_CASE("a member joining during the initial delay extends it, up to the rebalance timeout") {
  Group g("g", config());
  auto a = g.handle_join(join(""), 9, ms(0))->member_id;
  g.handle_join(join(a), 1, ms(0));
  auto b = g.handle_join(join(""), 9, ms(250))->member_id;
  g.handle_join(join(b), 2, ms(250));
  g.tick(ms(300));  // a new member arrived during the first delay: another delay
  CHECK(g.take_replies().empty());
  g.tick(ms(600));
  CHECK(g.take_replies().size() == 2);
}

TEST_CASE("only the leader gets the member list; the leader's SyncGroup answers everyone") {
  Group g("g", config());
  std::vector<Reply> replies;
  auto ids = form_group(g, 3, ms(0), &replies);
  const std::string leader = *g.leader_id();
  int with_members = 0;
  for (Token t = 1; t <= 3; ++t) {
    auto* a = join_reply(replies, t);
    REQUIRE(a);
    CHECK(a->generation_id == 1);
    CHECK(a->leader_id == leader);
    if (!a->members.empty()) {
      with_members++;
      CHECK(a->member_id == leader);
      CHECK(a->members.size() == 3);
    }
  }
  CHECK(with_members == 1);

  // Followers' SyncGroup requests are parked until the leader's arrives.
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == leader) continue;
    SyncParams s{ids[i], std::nullopt, 1, {}, {}, {}};
    CHECK_FALSE(g.handle_sync(s, 10 + i, ms(10)));
  }
  CHECK(g.take_replies().empty());
  SyncParams s{leader, std::nullopt, 1, {}, {}, {}};
  for (auto& id : ids) s.assignments[id] = "assign-" + id;
  CHECK_FALSE(g.handle_sync(s, 99, ms(20)));
  CHECK(g.state() == GroupState::kStable);
  CHECK(g.metadata_dirty());
  auto sync = g.take_replies();
  CHECK(sync.size() == 3);
  for (size_t i = 0; i < ids.size(); ++i) {
    Token t = ids[i] == leader ? 99 : 10 + i;
    auto* r = sync_reply(sync, t);
    REQUIRE(r);
    CHECK(r->error == Error::kNone);
    CHECK(r->assignment == "assign-" + ids[i]);
  }
  // In Stable, SyncGroup returns the stored assignment at once.
  SyncParams again{ids[0], std::nullopt, 1, {}, {}, {}};
  auto now = g.handle_sync(again, 5, ms(30));
  REQUIRE(now);
  CHECK(now->assignment == "assign-" + ids[0]);
}

TEST_CASE("SyncGroup and Heartbeat errors follow the state and generation") {
  Group g("g", config());
  auto ids = stable_group(g, 2, ms(0));
  CHECK(g.handle_heartbeat(ids[0], std::nullopt, 1, ms(1)) == Error::kNone);
  CHECK(g.handle_heartbeat(ids[0], std::nullopt, 0, ms(1)) == Error::kIllegalGeneration);
  CHECK(g.handle_heartbeat("nobody", std::nullopt, 1, ms(1)) == Error::kUnknownMemberId);
  SyncParams stale{ids[0], std::nullopt, 7, {}, {}, {}};
  CHECK(g.handle_sync(stale, 1, ms(1))->error == Error::kIllegalGeneration);
  SyncParams wrong_protocol{
      ids[0], std::nullopt, 1, std::string("consumer"), std::string("roundrobin"), {}};
  CHECK(g.handle_sync(wrong_protocol, 1, ms(1))->error == Error::kInconsistentGroupProtocol);

  // A member whose subscription changed starts a rebalance; the others learn
  // it from their heartbeat and cannot sync until they rejoin.
  CHECK_FALSE(g.handle_join(join(ids[1], {"range", "roundrobin"}), 7, ms(2)));
  CHECK(g.state() == GroupState::kPreparingRebalance);
  CHECK(g.handle_heartbeat(ids[0], std::nullopt, 1, ms(3)) == Error::kRebalanceInProgress);
  SyncParams s{ids[0], std::nullopt, 1, {}, {}, {}};
  CHECK(g.handle_sync(s, 8, ms(3))->error == Error::kRebalanceInProgress);
  // Once every known member rejoined, the join completes without waiting.
  CHECK_FALSE(g.handle_join(join(ids[0]), 9, ms(4)));
  CHECK(g.state() == GroupState::kCompletingRebalance);
  CHECK(g.generation_id() == 2);
  CHECK(g.take_replies().size() == 2);
}

TEST_CASE("a member silent for session.timeout.ms is removed and the group rebalances") {
  Group g("g", config());
  auto ids = stable_group(g, 2, ms(0));
  g.handle_heartbeat(ids[0], std::nullopt, 1, ms(5000));
  g.tick(ms(5999));
  CHECK(g.state() == GroupState::kStable);
  g.tick(ms(6000));  // ids[1] last heard of at 0, session 6000
  CHECK(g.state() == GroupState::kPreparingRebalance);
  CHECK(g.members().size() == 1);
  CHECK(g.handle_heartbeat(ids[1], std::nullopt, 1, ms(6001)) == Error::kUnknownMemberId);
  CHECK(g.handle_heartbeat(ids[0], std::nullopt, 1, ms(6001)) == Error::kRebalanceInProgress);
  CHECK_FALSE(g.handle_join(join(ids[0]), 3, ms(6002)));
  auto replies = g.take_replies();
  REQUIRE(join_reply(replies, 3));
  CHECK(join_reply(replies, 3)->generation_id == 2);
  CHECK(join_reply(replies, 3)->leader_id == ids[0]);
}

TEST_CASE("members that do not rejoin within the rebalance timeout are dropped") {
  Group g("g", config());
  auto ids = stable_group(g, 2, ms(0));
  CHECK_FALSE(g.handle_join(join(ids[0], {"range", "x"}), 1, ms(100)));
  // ids[1] keeps heartbeating but never rejoins.
  g.handle_heartbeat(ids[1], std::nullopt, 1, ms(5000));
  g.tick(ms(10099));
  CHECK(g.state() == GroupState::kPreparingRebalance);
  g.handle_heartbeat(ids[1], std::nullopt, 1, ms(10000));
  g.tick(ms(10100));
  CHECK(g.state() == GroupState::kCompletingRebalance);
  CHECK(g.members().size() == 1);
  CHECK(g.handle_heartbeat(ids[1], std::nullopt, 1, ms(10101)) == Error::kUnknownMemberId);
}

TEST_CASE("the leader's missing SyncGroup forces a new rebalance") {
  Group g("g", config());
  auto ids = form_group(g, 2, ms(0));
  std::string follower = ids[0] == *g.leader_id() ? ids[1] : ids[0];
  SyncParams s{follower, std::nullopt, 1, {}, {}, {}};
  CHECK_FALSE(g.handle_sync(s, 7, ms(10)));
  // The leader stays alive (heartbeats answer NONE while completing) but never syncs.
  CHECK(g.handle_heartbeat(*g.leader_id(), std::nullopt, 1, ms(5000)) == Error::kNone);
  CHECK(g.handle_heartbeat(*g.leader_id(), std::nullopt, 1, ms(10000)) == Error::kNone);
  g.tick(ms(600 + 10000 - 1));
  CHECK(g.state() == GroupState::kCompletingRebalance);
  g.tick(ms(600 + 10000));
  CHECK(g.state() == GroupState::kPreparingRebalance);
  auto replies = g.take_replies();
  auto* r = sync_reply(replies, 7);
  REQUIRE(r);
  CHECK(r->error == Error::kRebalanceInProgress);
  CHECK(g.members().size() == 1);  // the silent leader is gone
}

TEST_CASE("LeaveGroup of the last member empties the group and bumps the generation") {
  Group g("g", config());
  auto ids = stable_group(g, 1, ms(0));
  CHECK(g.handle_leave("nobody", std::nullopt, ms(1)) == Error::kUnknownMemberId);
  CHECK(g.handle_leave(ids[0], std::nullopt, ms(1)) == Error::kNone);
  CHECK(g.state() == GroupState::kEmpty);
  CHECK(g.generation_id() == 2);
  CHECK(g.metadata_dirty());
  CHECK(g.handle_heartbeat(ids[0], std::nullopt, 2, ms(2)) == Error::kUnknownMemberId);
}

TEST_CASE("JoinGroup validates the session timeout and the protocols") {
  Group g("g", config());
  auto bad = join("");
  bad.session_timeout_ms = 10;
  CHECK(g.handle_join(bad, 1, ms(0))->error == Error::kInvalidSessionTimeout);
  auto ids = stable_group(g, 1, ms(0));
  CHECK(g.handle_join(join("", {"cooperative-sticky"}), 2, ms(1))->error ==
        Error::kInconsistentGroupProtocol);
  auto other_type = join("");
  other_type.protocol_type = "connect";
  CHECK(g.handle_join(other_type, 3, ms(1))->error == Error::kInconsistentGroupProtocol);
  CHECK(g.handle_join(join("ghost"), 4, ms(1))->error == Error::kUnknownMemberId);
}

TEST_CASE("the protocol with the most first-choice votes among the common ones wins") {
  Group g("g", config());
  for (auto protocols : std::vector<std::vector<std::string>>{
           {"range", "roundrobin"}, {"roundrobin", "range"}, {"roundrobin", "sticky"}}) {
    auto p = join("", protocols, false);
    g.handle_join(p, 1, ms(0));
  }
  g.tick(ms(300));
  g.tick(ms(600));
  CHECK(g.protocol_name() == "roundrobin");
}

TEST_CASE("a static member that restarts keeps its assignment without a rebalance (KIP-345)") {
  Group g("g", config());
  auto p = join("", {"range"}, true);
  p.group_instance_id = "inst-1";
  CHECK_FALSE(g.handle_join(p, 1, ms(0)));  // no MEMBER_ID_REQUIRED round
  g.tick(ms(300));
  auto first = g.take_replies();
  std::string old_id = join_reply(first, 1)->member_id;
  CHECK(old_id == "inst-1-u1");
  SyncParams s{old_id, std::string("inst-1"), 1, {}, {}, {{old_id, "mine"}}};
  g.handle_sync(s, 2, ms(1));
  g.take_replies();
  g.clear_metadata_dirty();

  auto again = g.handle_join(p, 3, ms(1000));  // restarted: unknown member id, same instance
  REQUIRE(again);
  CHECK(again->error == Error::kNone);
  CHECK(again->member_id != old_id);
  CHECK(again->generation_id == 1);
  CHECK(g.state() == GroupState::kStable);
  CHECK(g.metadata_dirty());
  CHECK(g.handle_heartbeat(old_id, std::string("inst-1"), 1, ms(1001)) == Error::kFencedInstanceId);
  CHECK(g.handle_heartbeat(again->member_id, std::string("inst-1"), 1, ms(1001)) == Error::kNone);
  SyncParams s2{again->member_id, std::string("inst-1"), 1, {}, {}, {}};
  CHECK(g.handle_sync(s2, 4, ms(1002))->assignment == "mine");
  // A LeaveGroup naming the instance with the fenced id is refused.
  CHECK(g.handle_leave(old_id, std::string("inst-1"), ms(1003)) == Error::kFencedInstanceId);
  CHECK(g.handle_leave("", std::string("inst-1"), ms(1003)) == Error::kNone);
  CHECK(g.state() == GroupState::kEmpty);
}

TEST_CASE("OffsetCommit membership checks (validateOffsetCommit)") {
  Group g("g", config());
  CHECK(g.validate_offset_commit("", std::nullopt, -1, ms(0)) == Error::kNone);  // simple consumer
  CHECK(g.validate_offset_commit("x", std::nullopt, 1, ms(0)) == Error::kUnknownMemberId);
  auto ids = form_group(g, 1, ms(0));
  CHECK(g.validate_offset_commit(ids[0], std::nullopt, 1, ms(1)) == Error::kRebalanceInProgress);
  SyncParams s{ids[0], std::nullopt, 1, {}, {}, {{ids[0], "a"}}};
  g.handle_sync(s, 3, ms(1));
  CHECK(g.validate_offset_commit(ids[0], std::nullopt, 1, ms(2)) == Error::kNone);
  CHECK(g.validate_offset_commit(ids[0], std::nullopt, 0, ms(2)) == Error::kIllegalGeneration);
  CHECK(g.validate_offset_commit("", std::nullopt, -1, ms(2)) == Error::kUnknownMemberId);
}

TEST_CASE("offsets expire only while the group is Empty, counted from when it emptied") {
  Group g("g", config());
  auto ids = stable_group(g, 1, ms(0));
  g.apply_commit({"t", 0}, CommittedOffset{5, -1, "", 10, std::nullopt});
  CHECK(g.expired_offsets(ms(1000000), 100).empty());  // members: never expire
  g.handle_leave(ids[0], std::nullopt, ms(5000));
  CHECK(g.state() == GroupState::kEmpty);
  CHECK(g.expired_offsets(ms(5099), 100).empty());
  auto expired = g.expired_offsets(ms(5100), 100);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0] == TopicPartition{"t", 0});
  CHECK_FALSE(g.removable());
  g.erase_offset(expired[0]);
  CHECK(g.removable());
}

TEST_CASE("a restored group is Stable with its members' sessions restarted") {
  Group g("g", config());
  auto ids = stable_group(g, 2, ms(0));
  auto snap = g.snapshot();
  Group r = Group::restore("g", config(), snap, ms(100000));
  CHECK(r.state() == GroupState::kStable);
  CHECK(r.generation_id() == 1);
  CHECK(r.leader_id() == g.leader_id());
  CHECK(r.handle_heartbeat(ids[0], std::nullopt, 1, ms(100001)) == Error::kNone);
  SyncParams s{ids[1], std::nullopt, 1, {}, {}, {}};
  CHECK(r.handle_sync(s, 1, ms(100001))->assignment == "a-" + ids[1]);
  // Members that never come back expire after their session timeout.
  r.tick(ms(100001 + 6000));
  CHECK(r.state() == GroupState::kEmpty);
  CHECK(r.members().empty());
  CHECK(r.generation_id() == 2);
}

TEST_CASE("become_dead answers parked requests and refuses further work") {
  Group g("g", config());
  auto id = g.handle_join(join(""), 9, ms(0))->member_id;
  g.handle_join(join(id), 1, ms(0));
  g.become_dead(Error::kNotCoordinator);
  auto replies = g.take_replies();
  REQUIRE(join_reply(replies, 1));
  CHECK(join_reply(replies, 1)->error == Error::kNotCoordinator);
  CHECK(g.handle_join(join(""), 2, ms(1))->error == Error::kCoordinatorNotAvailable);
}
