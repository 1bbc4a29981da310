// Client-facing requests: proposals, single-server membership changes
// (thesis §4.1), leadership transfer (thesis §3.10) and ReadIndex (§6.4).

#include <algorithm>

#include "common/assert.h"
#include "raft/quorum.h"
#include "raft/raft_core.h"

namespace dmq::raft {

bool Raft::committed_in_current_term() const {
  return log_.match_term(log_.committed(), term_);
}

ProposeResult Raft::propose(EntryType type, std::string data) {
  ProposeResult result;
  if (role_ != Role::kLeader) {
    result.error = ProposeError::kNotLeader;
    return result;
  }
  if (transferee_ != kNoNode) {
    result.error = ProposeError::kTransferring;
    return result;
  }
  Entry e{term_, log_.last_index().next(), type, std::move(data)};
  result.index = e.index;
  result.term = e.term;
  append_entries({std::move(e)});
  return result;
}

ProposeResult Raft::propose_voter_change(EntryType type, NodeId id) {
  DMQ_ASSERT(type == EntryType::kAddVoter || type == EntryType::kRemoveVoter);
  ProposeResult result;
  if (role_ != Role::kLeader) {
    result.error = ProposeError::kNotLeader;
    return result;
  }
  if (id == kNoNode || (type == EntryType::kAddVoter) == contains(voters_, id)) {
    result.error = ProposeError::kInvalid;
    return result;
  }
  if (type == EntryType::kRemoveVoter && voters_.size() == 1) {
    result.error = ProposeError::kInvalid;  // would leave nobody to lead
    return result;
  }
  // One change at a time, and only after an entry of this term committed:
  // otherwise two leaders of different terms could each append a change and
  // form disjoint majorities (the single-server change bug, raft-dev 2015).
  if (last_config_index() > log_.committed() || !committed_in_current_term()) {
    result.error = ProposeError::kConfigChangePending;
    return result;
  }
  return propose(type, encode_node_id(id));
}

ProposeError Raft::transfer_leadership(NodeId target) {
  if (role_ != Role::kLeader) return ProposeError::kNotLeader;
  if (target == cfg_.id || !contains(voters_, target)) return ProposeError::kInvalid;
  if (transferee_ == target) return ProposeError::kOk;
  transferee_ = target;
  // The transfer gets one election timeout to finish (tick_heartbeat aborts).
  election_elapsed_ = 0;
  if (progress_.at(target).match == log_.last_index()) {
    maybe_send_timeout_now(target);
  } else {
    maybe_send_append(target, true);
  }
  return ProposeError::kOk;
}

void Raft::maybe_send_timeout_now(NodeId to) {
  if (progress_.at(to).match != log_.last_index()) return;
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  send(std::move(m));
}

ProposeError Raft::read_index(std::string context) {
  if (role_ != Role::kLeader) return ProposeError::kNotLeader;
  // Until an entry of its term is committed, the leader's commit index may
  // be behind earlier leaders' (thesis §6.4 step 1).
  if (!committed_in_current_term()) {
    reads_awaiting_commit_.push_back(std::move(context));
    return ProposeError::kOk;
  }
  start_read_round(std::move(context));
  return ProposeError::kOk;
}

void Raft::start_read_round(std::string context) {
  // The read waits for the next heartbeat round: acknowledgements of it from
  // a majority prove we were still leader after the read arrived.
  pending_reads_.push_back({std::move(context), log_.committed(), read_seq_ + 1});
  read_round_pending_ = true;
}

void Raft::maybe_release_reads() {
  if (pending_reads_.empty()) return;
  uint64_t acked = quorum_value(voters_, [this](NodeId id) -> uint64_t {
    auto it = progress_.find(id);
    return it == progress_.end() ? 0 : it->second.read_seq_acked;
  });
  while (!pending_reads_.empty() && pending_reads_.front().seq <= acked) {
    read_states_.push_back(
        {std::move(pending_reads_.front().context), pending_reads_.front().index});
    pending_reads_.pop_front();
  }
}

SnapshotMeta Raft::snapshot_meta(LogIndex index) const {
  DMQ_ASSERT(index <= log_.applied());
  std::optional<Term> t = log_.term(index);
  DMQ_ASSERT(t.has_value());
  return SnapshotMeta{index, *t, voters_at(index)};
}

Status Raft::status() const {
  Status s;
  s.id = cfg_.id;
  s.role = role_;
  s.term = term_;
  s.vote = vote_;
  s.leader = lead_;
  s.commit = log_.committed();
  s.applied = log_.applied();
  s.first_index = log_.first_index();
  s.last_index = log_.last_index();
  s.voters = voters_;
  s.transferee = transferee_;
  for (const auto& [id, pr] : progress_) {
    s.peers.push_back({id, pr.match, pr.next, pr.state, pr.recent_active, pr.lost_entries});
  }
  return s;
}

bool Raft::has_ready() const {
  if (append_pending_ || read_round_pending_) return true;
  if (!msgs_.empty() || !read_states_.empty()) return true;
  if (!log_.unstable_entries().empty() || log_.unstable_snapshot()) return true;
  if (HardState{term_, vote_, log_.committed()} != persisted_hs_) return true;
  return log_.has_next_committed();
}

Ready Raft::ready() {
  DMQ_ASSERT(!ready_outstanding_);
  flush_pending();
  Ready rd;
  HardState hs{term_, vote_, log_.committed()};
  if (hs != persisted_hs_) rd.hard_state = hs;
  rd.entries = log_.unstable_entries();
  rd.snapshot = log_.unstable_snapshot();
  rd.messages = std::move(msgs_);
  msgs_.clear();
  rd.committed_entries = log_.next_committed_entries(cfg_.max_apply_bytes);
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  ready_outstanding_ = true;
  return rd;
}

void Raft::advance(const Ready& rd) {
  DMQ_ASSERT(ready_outstanding_);
  ready_outstanding_ = false;
  if (rd.hard_state) persisted_hs_ = *rd.hard_state;
  if (rd.snapshot) {
    log_.stable_snapshot_to(rd.snapshot->meta.index);
    log_.applied_to(rd.snapshot->meta.index);
  }
  if (!rd.entries.empty()) log_.stable_to(rd.entries.back().index, rd.entries.back().term);
  if (!rd.committed_entries.empty()) log_.applied_to(rd.committed_entries.back().index);
  if (role_ == Role::kLeader) {
    auto self = progress_.find(cfg_.id);
    if (self != progress_.end() && self->second.maybe_update(log_.stable_last_index())) {
      if (maybe_commit()) broadcast_append(true);
    }
  }
}

}  // namespace dmq::raft
