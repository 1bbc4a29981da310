#include "group/group.h"

#include <algorithm>

#include "common/assert.h"

namespace dmq::group {

Group::Group(std::string id, GroupConfig config) : id_(std::move(id)), config_(std::move(config)) {
  DMQ_ASSERT(config_.new_uuid != nullptr);
}

Group Group::restore(std::string id, GroupConfig config, const GroupSnapshot& s, TimeMs now) {
  Group g(std::move(id), std::move(config));
  g.protocol_type_ = s.protocol_type;
  g.generation_ = s.generation_id;
  g.protocol_name_ = s.protocol_name;
  g.leader_ = s.leader_id;
  g.state_timestamp_ms_ = s.state_timestamp_ms;
  for (const auto& mv : s.members) {
    Member m;
    m.member_id = mv.member_id;
    m.instance_id = mv.group_instance_id;
    m.client_id = mv.client_id;
    m.client_host = mv.client_host;
    m.session_timeout_ms = mv.session_timeout_ms;
    m.rebalance_timeout_ms = mv.rebalance_timeout_ms;
    m.protocol_type = s.protocol_type;
    if (s.protocol_name) m.protocols.push_back(Protocol{*s.protocol_name, mv.metadata});
    m.assignment = mv.assignment;
    m.session_deadline = now + TimeMs(m.session_timeout_ms);
    if (m.instance_id) g.static_members_[*m.instance_id] = m.member_id;
    g.members_.emplace(m.member_id, std::move(m));
  }
  if (g.leader_ && !g.members_.count(*g.leader_)) g.leader_.reset();
  g.elect_leader_if_missing();
  g.state_ = g.members_.empty() ? GroupState::kEmpty : GroupState::kStable;
  return g;
}

// ---- queries -----------------------------------------------------------------

std::vector<MemberView> Group::members() const {
  std::vector<MemberView> out;
  for (const auto& [id, m] : members_) {
    out.push_back(MemberView{m.member_id, m.instance_id, m.client_id, m.client_host,
                             m.rebalance_timeout_ms, m.session_timeout_ms,
                             protocol_name_ ? metadata_for(m, *protocol_name_) : std::string(),
                             m.assignment});
  }
  return out;
}

GroupSnapshot Group::snapshot() const {
  return GroupSnapshot{protocol_type_, generation_,         protocol_name_,
                       leader_,        state_timestamp_ms_, members()};
}

std::vector<Reply> Group::take_replies() {
  std::vector<Reply> out;
  out.swap(replies_);
  return out;
}

std::string Group::metadata_for(const Member& m, const std::string& protocol) const {
  for (const auto& p : m.protocols)
    if (p.name == protocol) return p.metadata;
  return {};
}

int32_t Group::max_rebalance_timeout_ms() const {
  int32_t out = 0;
  for (const auto& [id, m] : members_) out = std::max(out, m.rebalance_timeout_ms);
  return out;
}

// Protocols every member supports.
std::set<std::string> Group::candidate_protocols() const {
  std::map<std::string, size_t> count;
  for (const auto& [id, m] : members_)
    for (const auto& p : m.protocols) count[p.name]++;
  std::set<std::string> out;
  for (const auto& [name, n] : count)
    if (n == members_.size()) out.insert(name);
  return out;
}

// Each member votes for the first protocol of its own list that all support;
// the most votes wins (Kafka's GroupMetadata.selectProtocol). Ties go to the
// smallest name, so the choice is deterministic.
std::string Group::select_protocol() const {
  auto candidates = candidate_protocols();
  DMQ_ASSERT(!candidates.empty());
  std::map<std::string, size_t> votes;
  for (const auto& [id, m] : members_) {
    for (const auto& p : m.protocols) {
      if (candidates.count(p.name)) {
        votes[p.name]++;
        break;
      }
    }
  }
  std::string best;
  size_t best_votes = 0;
  for (const auto& [name, n] : votes) {
    if (n > best_votes) {
      best = name;
      best_votes = n;
    }
  }
  return best;
}

bool Group::supports_protocols(const std::string& type,
                               const std::vector<Protocol>& protocols) const {
  if (members_.empty()) return !type.empty() && !protocols.empty();
  if (type != protocol_type_) return false;
  auto candidates = candidate_protocols();
  return std::any_of(protocols.begin(), protocols.end(),
                     [&](const Protocol& p) { return candidates.count(p.name) > 0; });
}

Error Group::validate_member(const std::string& member_id,
                             const std::optional<std::string>& instance_id) const {
  if (instance_id) {
    auto it = static_members_.find(*instance_id);
    if (it != static_members_.end() && it->second != member_id) return Error::kFencedInstanceId;
  }
  if (!members_.count(member_id)) return Error::kUnknownMemberId;
  return Error::kNone;
}

JoinAnswer Group::join_error(Error error, const std::string& member_id) const {
  JoinAnswer a;
  a.error = error;
  a.member_id = member_id;
  a.protocol_type = protocol_type_;
  return a;
}

JoinAnswer Group::current_generation_answer(const Member& m) const {
  JoinAnswer a;
  a.generation_id = generation_;
  a.protocol_type = protocol_type_;
  a.protocol_name = protocol_name_;
  a.leader_id = leader_.value_or("");
  a.member_id = m.member_id;
  if (leader_ && *leader_ == m.member_id) {
    for (const auto& [id, other] : members_) {
      a.members.push_back(JoinAnswer::Member{
          id, other.instance_id, protocol_name_ ? metadata_for(other, *protocol_name_) : ""});
    }
  }
  return a;
}

void Group::reply_join(Token token, JoinAnswer answer) {
  replies_.push_back(Reply{token, std::move(answer)});
}

void Group::reply_sync(Token token, SyncAnswer answer) {
  replies_.push_back(Reply{token, std::move(answer)});
}

void Group::become(GroupState next, TimeMs now) {
  state_ = next;
  state_timestamp_ms_ = now.count();
}

// ---- JoinGroup ---------------------------------------------------------------

std::optional<JoinAnswer> Group::handle_join(const JoinParams& p, Token token, TimeMs now) {
  if (p.session_timeout_ms < config_.min_session_timeout_ms ||
      p.session_timeout_ms > config_.max_session_timeout_ms) {
    return join_error(Error::kInvalidSessionTimeout, p.member_id);
  }
  // The group is being removed or moved: the member finds the coordinator again.
  if (state_ == GroupState::kDead) return join_error(Error::kCoordinatorNotAvailable, p.member_id);
  if (!supports_protocols(p.protocol_type, p.protocols)) {
    return join_error(Error::kInconsistentGroupProtocol, p.member_id);
  }
  if (p.member_id.empty()) return join_new_member(p, token, now);
  return join_known_member(p, token, now);
}

std::optional<JoinAnswer> Group::join_new_member(const JoinParams& p, Token token, TimeMs now) {
  if (p.group_instance_id) {
    // KIP-345: a static member never gets MEMBER_ID_REQUIRED; a known instance
    // id takes a new member id that fences the old one.
    std::string new_id = *p.group_instance_id + "-" + config_.new_uuid();
    auto it = static_members_.find(*p.group_instance_id);
    if (it != static_members_.end()) {
      std::string old_id = it->second;
      return replace_static_member(old_id, new_id, p, token, now);
    }
    add_member_and_rebalance(new_id, p, token, now);
    return std::nullopt;
  }
  std::string new_id = p.client_id + "-" + config_.new_uuid();
  if (p.require_known_member_id) {
    // KIP-394: hand out the id first, so a client that times out and retries
    // does not leave an orphan member behind.
    pending_members_[new_id] = now + TimeMs(p.session_timeout_ms);
    return join_error(Error::kMemberIdRequired, new_id);
  }
  add_member_and_rebalance(new_id, p, token, now);
  return std::nullopt;
}

std::optional<JoinAnswer> Group::join_known_member(const JoinParams& p, Token token, TimeMs now) {
  if (Error e = validate_member(p.member_id, p.group_instance_id); e == Error::kFencedInstanceId) {
    return join_error(e, p.member_id);
  }
  if (pending_members_.erase(p.member_id)) {
    add_member_and_rebalance(p.member_id, p, token, now);
    return std::nullopt;
  }
  auto it = members_.find(p.member_id);
  if (it == members_.end()) return join_error(Error::kUnknownMemberId, p.member_id);
  Member& m = it->second;
  const bool same_protocols = m.protocol_type == p.protocol_type && m.protocols == p.protocols;
  switch (state_) {
    case GroupState::kPreparingRebalance:
      update_member(m, p, token);
      maybe_complete_join(now);
      return std::nullopt;
    case GroupState::kCompletingRebalance:
      // A member that lost the JoinGroup answer asks again: same generation.
      if (same_protocols) return current_generation_answer(m);
      update_member(m, p, token);
      prepare_rebalance(now);
      return std::nullopt;
    case GroupState::kStable:
      // The leader rejoining, or a member whose subscription changed, starts
      // a new generation; anyone else just gets the current one.
      if (m.member_id != leader_.value_or("") && same_protocols) {
        m.session_deadline = now + TimeMs(m.session_timeout_ms);
        return current_generation_answer(m);
      }
      update_member(m, p, token);
      prepare_rebalance(now);
      return std::nullopt;
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
  return join_error(Error::kUnknownMemberId, p.member_id);
}

std::optional<JoinAnswer> Group::replace_static_member(const std::string& old_id,
                                                       const std::string& new_id,
                                                       const JoinParams& p, Token token,
                                                       TimeMs now) {
  auto node = members_.extract(old_id);
  DMQ_ASSERT(!node.empty());
  Member m = std::move(node.mapped());
  if (m.awaiting_join) {
    reply_join(*m.awaiting_join, join_error(Error::kFencedInstanceId, old_id));
    m.awaiting_join.reset();
  }
  if (m.awaiting_sync) {
    reply_sync(*m.awaiting_sync, SyncAnswer{Error::kFencedInstanceId, protocol_type_, {}, {}});
    m.awaiting_sync.reset();
  }
  m.member_id = new_id;
  take_join_params(m, p, now);
  if (leader_ == old_id) leader_ = new_id;
  static_members_[*p.group_instance_id] = new_id;
  Member& placed = members_.emplace(new_id, std::move(m)).first->second;

  if (state_ == GroupState::kStable && protocol_name_ && select_protocol() == *protocol_name_) {
    // KIP-345: a bounced static member keeps its assignment, no rebalance. The
    // new member id must be durable before the member learns it.
    metadata_dirty_ = true;
    JoinAnswer a = current_generation_answer(placed);
    a.skip_assignment = leader_ == new_id;  // KIP-814
    return a;
  }
  placed.awaiting_join = token;
  if (state_ == GroupState::kPreparingRebalance) {
    maybe_complete_join(now);
  } else {
    prepare_rebalance(now);
  }
  return std::nullopt;
}

void Group::take_join_params(Member& m, const JoinParams& p, TimeMs now) {
  m.client_id = p.client_id;
  m.client_host = p.client_host;
  m.session_timeout_ms = p.session_timeout_ms;
  m.rebalance_timeout_ms = p.rebalance_timeout_ms;
  m.protocol_type = p.protocol_type;
  m.protocols = p.protocols;
  m.session_deadline = now + TimeMs(p.session_timeout_ms);
}

void Group::add_member_and_rebalance(const std::string& id, const JoinParams& p, Token token,
                                     TimeMs now) {
  if (members_.empty()) protocol_type_ = p.protocol_type;
  Member m;
  m.member_id = id;
  m.instance_id = p.group_instance_id;
  take_join_params(m, p, now);
  m.awaiting_join = token;
  if (m.instance_id) static_members_[*m.instance_id] = id;
  members_.emplace(id, std::move(m));
  if (!leader_) leader_ = id;
  if (state_ == GroupState::kPreparingRebalance && initial_delay_active_) new_member_added_ = true;
  maybe_prepare_rebalance(now);
  maybe_complete_join(now);
}

void Group::update_member(Member& m, const JoinParams& p, Token token) {
  if (m.awaiting_join) {
    // The client gave up on its earlier JoinGroup and sent another.
    reply_join(*m.awaiting_join, join_error(Error::kRebalanceInProgress, m.member_id));
  }
  m.client_id = p.client_id;
  m.client_host = p.client_host;
  m.session_timeout_ms = p.session_timeout_ms;
  m.rebalance_timeout_ms = p.rebalance_timeout_ms;
  m.protocol_type = p.protocol_type;
  m.protocols = p.protocols;
  m.awaiting_join = token;
}

void Group::elect_leader_if_missing() {
  if (leader_ && members_.count(*leader_)) return;
  leader_.reset();
  for (const auto& [id, m] : members_) {
    if (m.awaiting_join) {
      leader_ = id;
      return;
    }
  }
  if (!members_.empty()) leader_ = members_.begin()->first;
}

void Group::remove_member_and_update(const std::string& id, Error reply_error, TimeMs now) {
  auto node = members_.extract(id);
  DMQ_ASSERT(!node.empty());
  Member& m = node.mapped();
  if (m.awaiting_join) reply_join(*m.awaiting_join, join_error(reply_error, id));
  if (m.awaiting_sync)
    reply_sync(*m.awaiting_sync, SyncAnswer{reply_error, protocol_type_, {}, {}});
  if (m.instance_id) {
    auto it = static_members_.find(*m.instance_id);
    if (it != static_members_.end() && it->second == id) static_members_.erase(it);
  }
  elect_leader_if_missing();
  switch (state_) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      prepare_rebalance(now);
      break;
    case GroupState::kPreparingRebalance:
      maybe_complete_join(now);
      break;
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
}

// ---- rebalance ---------------------------------------------------------------

void Group::maybe_prepare_rebalance(TimeMs now) {
  if (state_ == GroupState::kStable || state_ == GroupState::kCompletingRebalance ||
      state_ == GroupState::kEmpty) {
    prepare_rebalance(now);
  }
}

void Group::prepare_rebalance(TimeMs now) {
  DMQ_ASSERT(state_ != GroupState::kDead);
  if (state_ == GroupState::kCompletingRebalance) {
    // The assignment being synced is void; members rejoin.
    for (auto& [id, m] : members_) {
      m.assignment.clear();
      if (m.awaiting_sync) {
        reply_sync(*m.awaiting_sync,
                   SyncAnswer{Error::kRebalanceInProgress, protocol_type_, protocol_name_, {}});
        m.awaiting_sync.reset();
      }
    }
  }
  const bool was_empty = state_ == GroupState::kEmpty;
  become(GroupState::kPreparingRebalance, now);
  rebalances_++;
  sync_deadline_.reset();
  const TimeMs rebalance_timeout(max_rebalance_timeout_ms());
  if (was_empty) {
    initial_delay_active_ = true;
    new_member_added_ = false;
    join_hard_deadline_ = now + rebalance_timeout;
    join_deadline_ =
        std::min(now + TimeMs(config_.initial_rebalance_delay_ms), join_hard_deadline_);
  } else {
    initial_delay_active_ = false;
    join_deadline_ = now + rebalance_timeout;
  }
  maybe_complete_join(now);
}

void Group::maybe_complete_join(TimeMs now) {
  if (state_ != GroupState::kPreparingRebalance || initial_delay_active_) return;
  if (!pending_members_.empty()) return;
  for (const auto& [id, m] : members_)
    if (!m.awaiting_join) return;
  complete_join(now);
}

void Group::complete_join(TimeMs now) {
  DMQ_ASSERT(state_ == GroupState::kPreparingRebalance);
  initial_delay_active_ = false;
  // Members that did not rejoin in time are out (Kafka's onCompleteJoin).
  std::vector<std::string> late;
  for (const auto& [id, m] : members_)
    if (!m.awaiting_join) late.push_back(id);
  for (const auto& id : late) {
    Member& m = members_.at(id);
    if (m.instance_id) static_members_.erase(*m.instance_id);
    members_.erase(id);
  }
  elect_leader_if_missing();
  generation_++;
  if (members_.empty()) {
    protocol_name_.reset();
    leader_.reset();
    become(GroupState::kEmpty, now);
    metadata_dirty_ = true;
    return;
  }
  protocol_name_ = select_protocol();
  become(GroupState::kCompletingRebalance, now);
  sync_deadline_ = now + TimeMs(max_rebalance_timeout_ms());
  for (auto& [id, m] : members_) {
    Token token = *m.awaiting_join;
    m.awaiting_join.reset();
    m.session_deadline = now + TimeMs(m.session_timeout_ms);
    reply_join(token, current_generation_answer(m));
  }
}

// ---- SyncGroup ---------------------------------------------------------------

std::optional<SyncAnswer> Group::handle_sync(const SyncParams& p, Token token, TimeMs now) {
  auto fail = [&](Error e) { return SyncAnswer{e, protocol_type_, protocol_name_, {}}; };
  if (state_ == GroupState::kDead) return fail(Error::kCoordinatorNotAvailable);
  if (Error e = validate_member(p.member_id, p.group_instance_id); e != Error::kNone)
    return fail(e);
  if (p.generation_id != generation_) return fail(Error::kIllegalGeneration);
  if ((p.protocol_type && *p.protocol_type != protocol_type_) ||
      (p.protocol_name && *p.protocol_name != protocol_name_.value_or(""))) {
    return fail(Error::kInconsistentGroupProtocol);
  }
  Member& m = members_.at(p.member_id);
  switch (state_) {
    case GroupState::kPreparingRebalance:
      return fail(Error::kRebalanceInProgress);
    case GroupState::kCompletingRebalance:
      if (m.awaiting_sync) reply_sync(*m.awaiting_sync, fail(Error::kRebalanceInProgress));
      m.awaiting_sync = token;
      m.session_deadline = now + TimeMs(m.session_timeout_ms);
      if (leader_ && *leader_ == p.member_id) complete_sync(p.assignments, now);
      return std::nullopt;
    case GroupState::kStable:
      m.session_deadline = now + TimeMs(m.session_timeout_ms);
      return SyncAnswer{Error::kNone, protocol_type_, protocol_name_, m.assignment};
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
  return fail(Error::kUnknownMemberId);
}

void Group::complete_sync(const std::map<std::string, std::string>& assignments, TimeMs now) {
  for (auto& [id, m] : members_) {
    auto it = assignments.find(id);
    m.assignment = it == assignments.end() ? std::string() : it->second;
  }
  become(GroupState::kStable, now);
  sync_deadline_.reset();
  metadata_dirty_ = true;
  for (auto& [id, m] : members_) {
    if (!m.awaiting_sync) continue;
    reply_sync(*m.awaiting_sync,
               SyncAnswer{Error::kNone, protocol_type_, protocol_name_, m.assignment});
    m.awaiting_sync.reset();
  }
}

// ---- Heartbeat, LeaveGroup, timers ---------------------------------------------

Error Group::handle_heartbeat(const std::string& member_id,
                              const std::optional<std::string>& instance_id, int32_t generation_id,
                              TimeMs now) {
  if (state_ == GroupState::kDead) return Error::kCoordinatorNotAvailable;
  if (Error e = validate_member(member_id, instance_id); e != Error::kNone) return e;
  if (generation_id != generation_) return Error::kIllegalGeneration;
  Member& m = members_.at(member_id);
  m.session_deadline = now + TimeMs(m.session_timeout_ms);
  if (state_ == GroupState::kPreparingRebalance) return Error::kRebalanceInProgress;
  return Error::kNone;
}

Error Group::handle_leave(const std::string& member_id,
                          const std::optional<std::string>& instance_id, TimeMs now) {
  if (state_ == GroupState::kDead) return Error::kCoordinatorNotAvailable;
  std::string id = member_id;
  if (instance_id) {
    auto it = static_members_.find(*instance_id);
    if (it == static_members_.end()) return Error::kUnknownMemberId;
    if (!member_id.empty() && member_id != it->second) return Error::kFencedInstanceId;
    id = it->second;
  } else if (pending_members_.erase(member_id)) {
    maybe_complete_join(now);
    return Error::kNone;
  }
  if (!members_.count(id)) return Error::kUnknownMemberId;
  remove_member_and_update(id, Error::kUnknownMemberId, now);
  return Error::kNone;
}

void Group::tick(TimeMs now) {
  if (state_ == GroupState::kDead) return;
  bool pending_expired = false;
  for (auto it = pending_members_.begin(); it != pending_members_.end();) {
    if (it->second <= now) {
      it = pending_members_.erase(it);
      pending_expired = true;
    } else {
      ++it;
    }
  }
  if (pending_expired) maybe_complete_join(now);
  // A member waiting for its JoinGroup or SyncGroup answer cannot heartbeat;
  // its session is considered alive (Kafka's hasSatisfiedHeartbeat).
  std::vector<std::string> expired;
  for (const auto& [id, m] : members_) {
    if (!m.awaiting_join && !m.awaiting_sync && m.session_deadline <= now) expired.push_back(id);
  }
  for (const auto& id : expired)
    if (members_.count(id)) remove_member_and_update(id, Error::kUnknownMemberId, now);

  if (state_ == GroupState::kPreparingRebalance && now >= join_deadline_) {
    if (initial_delay_active_ && new_member_added_ && now < join_hard_deadline_) {
      new_member_added_ = false;
      join_deadline_ =
          std::min(now + TimeMs(config_.initial_rebalance_delay_ms), join_hard_deadline_);
    } else {
      complete_join(now);
    }
  }
  if (state_ == GroupState::kCompletingRebalance && sync_deadline_ && now >= *sync_deadline_) {
    // The leader's assignment did not arrive in time: members that have not
    // sent SyncGroup are removed and the group rebalances (schedulePendingSync).
    std::vector<std::string> silent;
    for (const auto& [id, m] : members_)
      if (!m.awaiting_sync) silent.push_back(id);
    if (silent.empty() && leader_) silent.push_back(*leader_);
    for (const auto& id : silent)
      if (members_.count(id)) remove_member_and_update(id, Error::kUnknownMemberId, now);
  }
}

void Group::become_dead(Error error) {
  for (auto& [id, m] : members_) {
    if (m.awaiting_join) reply_join(*m.awaiting_join, join_error(error, id));
    if (m.awaiting_sync) reply_sync(*m.awaiting_sync, SyncAnswer{error, protocol_type_, {}, {}});
    m.awaiting_join.reset();
    m.awaiting_sync.reset();
  }
  state_ = GroupState::kDead;
}

// ---- offsets -----------------------------------------------------------------

Error Group::validate_offset_commit(const std::string& member_id,
                                    const std::optional<std::string>& instance_id,
                                    int32_t generation_id, TimeMs now) {
  if (state_ == GroupState::kDead) return Error::kCoordinatorNotAvailable;
  if (generation_id < 0 && state_ == GroupState::kEmpty) return Error::kNone;  // simple consumer
  if (generation_id >= 0 || !member_id.empty() || instance_id) {
    if (Error e = validate_member(member_id, instance_id); e != Error::kNone) return e;
    if (generation_id != generation_) return Error::kIllegalGeneration;
    if (state_ == GroupState::kCompletingRebalance) return Error::kRebalanceInProgress;
    Member& m = members_.at(member_id);
    m.session_deadline = now + TimeMs(m.session_timeout_ms);
    return Error::kNone;
  }
  // generation -1 without a member: only allowed while nobody consumes.
  return Error::kUnknownMemberId;
}

void Group::apply_commit(const TopicPartition& tp, CommittedOffset offset) {
  offsets_[tp] = std::move(offset);
}

bool Group::erase_offset(const TopicPartition& tp) {
  return offsets_.erase(tp) > 0;
}

std::vector<TopicPartition> Group::expired_offsets(TimeMs now, int64_t retention_ms) const {
  std::vector<TopicPartition> out;
  if (state_ != GroupState::kEmpty) return out;
  for (const auto& [tp, o] : offsets_) {
    bool expired;
    if (o.expire_timestamp_ms) {
      expired = now.count() >= *o.expire_timestamp_ms;
    } else {
      // KIP-211: a consumer group's offsets age from the moment it became Empty.
      int64_t base = protocol_type_.empty() || state_timestamp_ms_ < 0
                         ? o.commit_timestamp_ms
                         : std::max(state_timestamp_ms_, o.commit_timestamp_ms);
      expired = now.count() - base >= retention_ms;
    }
    if (expired) out.push_back(tp);
  }
  return out;
}

}  // namespace dmq::group
