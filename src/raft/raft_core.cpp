// Roles, elections, ticks and message dispatch (Raft §5.1-5.2, thesis §9.6,
// §6.2), and tracking of the configuration along the log (thesis §4.1).

#include <algorithm>

#include "common/assert.h"
#include "raft/quorum.h"
#include "raft/raft_core.h"

namespace dmq::raft {

Raft::Raft(const Config& config, Storage* storage)
    : cfg_(config), log_(storage), rng_(config.seed ^ (config.id.value * 0x9e3779b97f4a7c15ULL)) {
  DMQ_ASSERT(cfg_.id != kNoNode);
  DMQ_ASSERT(cfg_.heartbeat_tick > 0);
  DMQ_ASSERT(cfg_.election_tick > cfg_.heartbeat_tick);
  DMQ_ASSERT(cfg_.max_inflight > 0);
  DMQ_ASSERT(cfg_.snapshot_chunk_bytes > 0);
  InitialState init = storage->initial_state();
  persisted_hs_ = init.hard_state;
  base_voters_ = normalized(init.voters);
  load_configuration();
  // A hard state is disk input: clamp a commit index beyond the log.
  log_.commit_to(std::min(init.hard_state.commit, log_.last_index()));
  log_.set_applied_on_restart(cfg_.applied);
  become_follower(init.hard_state.term, kNoNode);
  vote_ = init.hard_state.vote;
}

void Raft::load_configuration() {
  // Replay voter changes found in the stored log on top of the base voters.
  LogIndex lo = log_.first_index();
  LogIndex end = log_.last_index().next();
  while (lo < end) {
    std::vector<Entry> page = log_.entries(lo, end, 4 << 20);
    record_voter_changes(page);
    lo = page.back().index.next();
  }
  on_voters_changed();
}

void Raft::record_voter_changes(const std::vector<Entry>& entries) {
  for (const Entry& e : entries) {
    Voters next = config_history_.empty() ? base_voters_ : config_history_.back().voters;
    if (apply_voter_change(next, e)) config_history_.push_back({e.index, std::move(next)});
  }
}

void Raft::rewind_configuration(LogIndex from) {
  while (!config_history_.empty() && config_history_.back().index >= from) {
    config_history_.pop_back();
  }
}

Voters Raft::voters_at(LogIndex index) const {
  for (auto it = config_history_.rbegin(); it != config_history_.rend(); ++it) {
    if (it->index <= index) return it->voters;
  }
  return base_voters_;
}

void Raft::on_voters_changed() {
  voters_ = config_history_.empty() ? base_voters_ : config_history_.back().voters;
  if (role_ != Role::kLeader) return;
  for (NodeId v : voters_) {
    if (progress_.count(v)) continue;
    Progress pr(log_.last_index().next(), cfg_.max_inflight);
    pr.recent_active = true;  // do not count a new voter against check-quorum yet
    progress_.emplace(v, std::move(pr));
  }
  for (auto it = progress_.begin(); it != progress_.end();) {
    if (it->first != cfg_.id && !contains(voters_, it->first)) {
      it = progress_.erase(it);
    } else {
      ++it;
    }
  }
  if (transferee_ != kNoNode && !contains(voters_, transferee_)) abort_transfer();
}

bool Raft::promotable() const {
  return contains(voters_, cfg_.id);
}

void Raft::reset_randomized_timeout() {
  randomized_timeout_ =
      cfg_.election_tick + static_cast<int>(rng_.below(static_cast<uint64_t>(cfg_.election_tick)));
}

void Raft::reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_timeout();
  abort_transfer();
  votes_.clear();
  progress_.clear();
  pending_reads_.clear();
  reads_awaiting_commit_.clear();
  read_round_pending_ = false;
  append_pending_ = false;
}

void Raft::become_follower(Term term, NodeId lead) {
  reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void Raft::become_pre_candidate() {
  DMQ_ASSERT(role_ != Role::kLeader);
  // Pre-vote does not touch term or vote (thesis §9.6).
  votes_.clear();
  progress_.clear();
  lead_ = kNoNode;
  role_ = Role::kPreCandidate;
}

void Raft::become_candidate() {
  DMQ_ASSERT(role_ != Role::kLeader);
  reset(term_.next());
  vote_ = cfg_.id;
  role_ = Role::kCandidate;
}

void Raft::become_leader() {
  DMQ_ASSERT(role_ == Role::kCandidate);
  reset(term_);
  lead_ = cfg_.id;
  role_ = Role::kLeader;
  on_voters_changed();  // creates progress for every voter
  if (!progress_.count(cfg_.id)) progress_.emplace(cfg_.id, Progress(LogIndex{1}, 1));
  Progress& self = progress_.at(cfg_.id);
  self.become_replicate();
  self.maybe_update(log_.stable_last_index());
  // A no-op of the new term lets the leader commit, and so learn the commit
  // index of earlier terms (Raft §8; commit rule of §5.4.2).
  append_entries({Entry{term_, log_.last_index().next(), EntryType::kNoOp, {}}});
}

void Raft::campaign(CampaignKind kind) {
  if (role_ == Role::kLeader || !promotable()) return;
  bool pre = kind == CampaignKind::kPreElection;
  Term campaign_term;
  if (pre) {
    become_pre_candidate();
    campaign_term = term_.next();
  } else {
    become_candidate();
    campaign_term = term_;
  }
  votes_[cfg_.id] = true;
  if (tally_votes(voters_, votes_) == VoteResult::kWon) {
    // A single voter wins at once.
    if (pre) {
      campaign(CampaignKind::kElection);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId v : voters_) {
    if (v == cfg_.id) continue;
    Message m;
    m.type = pre ? MessageType::kPreVote : MessageType::kVote;
    m.to = v;
    m.term = campaign_term;
    m.log_index = log_.last_index();
    m.log_term = log_.last_term();
    m.leader_transfer = kind == CampaignKind::kTransfer;
    send(std::move(m));
  }
}

void Raft::send(Message m) {
  m.from = cfg_.id;
  // Pre-vote messages carry their own term (the one campaigned for or the
  // one granted); everything else carries ours.
  if (m.type != MessageType::kPreVote && m.type != MessageType::kPreVoteResponse &&
      m.type != MessageType::kVoteResponse) {
    m.term = term_;
  }
  msgs_.push_back(std::move(m));
}

void Raft::tick() {
  if (role_ == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  ++election_elapsed_;
  if (promotable() && election_elapsed_ >= randomized_timeout_) {
    election_elapsed_ = 0;
    campaign(cfg_.pre_vote ? CampaignKind::kPreElection : CampaignKind::kElection);
  }
}

void Raft::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= cfg_.election_tick) {
    election_elapsed_ = 0;
    // Check-quorum (thesis §6.2): a leader that heard from no majority during
    // an election timeout steps down, so clients can find the real leader.
    if (cfg_.check_quorum && !quorum_active()) {
      become_follower(term_, kNoNode);
      return;
    }
    for (auto& [id, pr] : progress_) pr.recent_active = (id == cfg_.id);
    abort_transfer();  // a transfer that took an election timeout failed
  }
  if (heartbeat_elapsed_ >= cfg_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
}

bool Raft::quorum_active() const {
  size_t active = 0;
  for (NodeId v : voters_) {
    auto it = progress_.find(v);
    if (v == cfg_.id || (it != progress_.end() && it->second.recent_active)) ++active;
  }
  return active >= quorum_size(voters_.size());
}

bool Raft::in_lease() const {
  // Thesis §4.2.3: a server that heard from a leader within the minimum
  // election timeout ignores vote requests, so a removed or partitioned
  // server cannot depose a working leader.
  return cfg_.check_quorum && lead_ != kNoNode && election_elapsed_ < cfg_.election_tick;
}

namespace {

bool is_from_leader(MessageType t) {
  return t == MessageType::kAppend || t == MessageType::kHeartbeat || t == MessageType::kSnapshot ||
         t == MessageType::kTimeoutNow;
}

bool is_vote_request(MessageType t) {
  return t == MessageType::kVote || t == MessageType::kPreVote;
}

bool well_formed(const Message& m) {
  if (m.type == MessageType::kAppend) {
    if (m.log_index == LogIndex{0} && m.log_term != Term{0}) return false;
    Term last = m.log_term;
    for (size_t i = 0; i < m.entries.size(); ++i) {
      const Entry& e = m.entries[i];
      if (e.index.value != m.log_index.value + 1 + i) return false;
      if (e.term < last || e.term > m.term) return false;
      last = e.term;
    }
  }
  if (m.type == MessageType::kSnapshot && m.snapshot_meta.index == LogIndex{0}) return false;
  return static_cast<uint8_t>(m.type) <= static_cast<uint8_t>(MessageType::kTimeoutNow);
}

}  // namespace

StepResult Raft::step(const Message& m) {
  if (m.to != cfg_.id || m.from == kNoNode || m.from == cfg_.id) return StepResult::kIgnored;
  if (!well_formed(m)) return StepResult::kMalformed;
  StepResult r = step_by_term(m);
  if (r != StepResult::kOk) return r;
  if (is_vote_request(m.type)) {
    handle_vote_request(m);
    return StepResult::kOk;
  }
  switch (role_) {
    case Role::kFollower:
      step_follower(m);
      break;
    case Role::kPreCandidate:
    case Role::kCandidate:
      step_candidate(m);
      break;
    case Role::kLeader:
      step_leader(m);
      break;
  }
  return StepResult::kOk;
}

StepResult Raft::step_by_term(const Message& m) {
  if (m.term > term_) {
    if (is_vote_request(m.type) && !m.leader_transfer && in_lease()) return StepResult::kIgnored;
    if (m.type == MessageType::kPreVote) return StepResult::kOk;
    // A granted pre-vote carries the term we may campaign in, not a new term.
    if (m.type == MessageType::kPreVoteResponse && !m.reject) return StepResult::kOk;
    become_follower(m.term, is_from_leader(m.type) ? m.from : kNoNode);
    return StepResult::kOk;
  }
  if (m.term < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote) &&
        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      // A stale leader, maybe cut off while we moved on: tell it our term so
      // it steps down (it cannot learn it from our vote requests, which the
      // lease makes others ignore).
      Message resp;
      resp.type = MessageType::kAppendResponse;
      resp.to = m.from;
      send(std::move(resp));
    } else if (m.type == MessageType::kPreVote) {
      Message resp;
      resp.type = MessageType::kPreVoteResponse;
      resp.to = m.from;
      resp.term = term_;
      resp.reject = true;
      send(std::move(resp));
    }
    return StepResult::kIgnored;
  }
  return StepResult::kOk;
}

void Raft::handle_vote_request(const Message& m) {
  bool pre = m.type == MessageType::kPreVote;
  // Never vote twice in a term (Raft §5.2); a pre-vote for a later term
  // promises nothing.
  bool can_vote =
      vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) || (pre && m.term > term_);
  bool grant = can_vote && log_.is_up_to_date(m.log_index, m.log_term);
  Message resp;
  resp.type = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  resp.to = m.from;
  resp.term = grant ? m.term : term_;
  resp.reject = !grant;
  if (grant && !pre) {
    election_elapsed_ = 0;
    vote_ = m.from;
  }
  send(std::move(resp));
}

void Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append(m);
      break;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      break;
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_snapshot_chunk(m);
      break;
    case MessageType::kTimeoutNow:
      // Thesis §3.10: the leader asks us to start an election at once.
      campaign(CampaignKind::kTransfer);
      break;
    default:
      break;
  }
}

void Raft::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      // Someone won this term (Raft §5.2).
      become_follower(m.term, m.from);
      step_follower(m);
      break;
    case MessageType::kPreVoteResponse:
      if (role_ == Role::kPreCandidate) handle_vote_response(m);
      break;
    case MessageType::kVoteResponse:
      if (role_ == Role::kCandidate) handle_vote_response(m);
      break;
    default:
      break;
  }
}

void Raft::handle_vote_response(const Message& m) {
  votes_.emplace(m.from, !m.reject);
  switch (tally_votes(voters_, votes_)) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        campaign(CampaignKind::kElection);
      } else {
        become_leader();
      }
      break;
    case VoteResult::kLost:
      become_follower(term_, kNoNode);
      break;
    case VoteResult::kPending:
      break;
  }
}

void Raft::step_leader(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;  // not a voter (any more)
  it->second.recent_active = true;
  switch (m.type) {
    case MessageType::kAppendResponse:
      handle_append_response(m);
      break;
    case MessageType::kHeartbeatResponse:
      handle_heartbeat_response(m);
      break;
    case MessageType::kSnapshotResponse:
      handle_snapshot_response(m);
      break;
    default:
      break;
  }
}

}  // namespace dmq::raft
