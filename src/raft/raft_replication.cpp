// Log replication (Raft §5.3), commitment (§5.4.2) and heartbeats.

#include <algorithm>

#include "common/assert.h"
#include "raft/quorum.h"
#include "raft/raft_core.h"

namespace dmq::raft {

void Raft::append_entries(std::vector<Entry> entries) {
  DMQ_ASSERT(role_ == Role::kLeader);
  log_.append(entries);
  record_voter_changes(entries);
  on_voters_changed();
  append_pending_ = true;
  // A leader removed from a single-voter configuration has nobody to
  // replicate to; nothing else to do until the entries are stable.
}

void Raft::flush_pending() {
  if (role_ != Role::kLeader) return;
  if (append_pending_) {
    append_pending_ = false;
    broadcast_append(false);
  }
  if (read_round_pending_) {
    read_round_pending_ = false;
    ++read_seq_;
    auto self = progress_.find(cfg_.id);
    if (self != progress_.end()) self->second.read_seq_acked = read_seq_;
    broadcast_heartbeat();
    maybe_release_reads();
  }
}

bool Raft::maybe_send_append(NodeId to, bool send_if_empty) {
  Progress& pr = progress_.at(to);
  if (pr.is_paused()) return false;
  LogIndex prev = pr.next.prev();
  std::optional<Term> prev_term = log_.term(prev);
  if (!prev_term || pr.next < log_.first_index()) {
    // The entries this follower needs were compacted away (Raft §7).
    send_snapshot(to, pr);
    return true;
  }
  std::vector<Entry> entries;
  if (pr.next <= log_.last_index()) {
    entries = log_.entries(pr.next, log_.last_index().next(), cfg_.max_entries_bytes);
  }
  if (entries.empty() && !send_if_empty) return false;
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.log_index = prev;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  if (!entries.empty()) {
    LogIndex last = entries.back().index;
    if (pr.state == ProgressState::kReplicate) {
      // Pipelining: assume success and move on (thesis §10.2.1).
      pr.optimistic_update(last);
      pr.inflights.add(last);
    } else if (pr.state == ProgressState::kProbe) {
      pr.probe_sent = true;
    }
  } else if (pr.state == ProgressState::kProbe) {
    pr.probe_sent = true;
  }
  m.entries = std::move(entries);
  send(std::move(m));
  return true;
}

void Raft::broadcast_append(bool send_if_empty) {
  for (auto& [id, pr] : progress_) {
    if (id == cfg_.id) continue;
    // Drain the window: several messages if the entries exceed one's limit.
    bool sent = maybe_send_append(id, send_if_empty);
    while (sent && pr.state == ProgressState::kReplicate && pr.next <= log_.last_index()) {
      sent = maybe_send_append(id, false);
    }
  }
}

void Raft::send_heartbeat(NodeId to) {
  const Progress& pr = progress_.at(to);
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  // Never let a follower commit past what is known to match the leader.
  m.commit = std::min(pr.match, log_.committed());
  m.seq = read_seq_;
  send(std::move(m));
}

void Raft::broadcast_heartbeat() {
  for (auto& [id, pr] : progress_) {
    if (id == cfg_.id) continue;
    send_heartbeat(id);
    if (pr.state == ProgressState::kSnapshot) {
      // Stop-and-wait chunk transfer: resend a chunk that went unanswered.
      if (!pr.snapshot_progressed) send_snapshot_chunk(id, pr);
      pr.snapshot_progressed = false;
    }
  }
}

void Raft::handle_append(const Message& m) {
  Message resp;
  resp.type = MessageType::kAppendResponse;
  resp.to = m.from;
  if (m.log_index < log_.committed()) {
    // Everything up to our commit index matches any leader's log.
    resp.index = log_.committed();
    send(std::move(resp));
    return;
  }
  RaftLog::AppendResult r = log_.maybe_append(m.log_index, m.log_term, m.commit, m.entries);
  if (r.matched) {
    if (r.conflict != LogIndex{0}) {
      rewind_configuration(r.conflict);
      std::vector<Entry> added;
      for (const Entry& e : m.entries) {
        if (e.index >= r.conflict) added.push_back(e);
      }
      record_voter_changes(added);
      on_voters_changed();
    }
    resp.index = r.last_new;
    send(std::move(resp));
    return;
  }
  // Fast backtracking: tell the leader the conflicting term and where it
  // starts, so it skips a whole term per round trip (Raft §5.3, end).
  resp.reject = true;
  resp.index = m.log_index;
  if (m.log_index > log_.last_index()) {
    resp.hint_index = log_.last_index().next();
  } else {
    resp.hint_term = *log_.term(m.log_index);
    resp.hint_index = log_.first_index_of_term_at(m.log_index);
  }
  send(std::move(resp));
}

LogIndex Raft::next_from_hint(const Message& m) const {
  if (m.hint_term == Term{0}) return m.hint_index;
  // Our last entry of the follower's conflicting term, if we have that term;
  // otherwise skip the follower's whole run of it.
  LogIndex j = std::min(m.index, log_.last_index());
  while (j > LogIndex{0}) {
    std::optional<Term> t = log_.term(j);
    if (!t || *t <= m.hint_term) {
      if (t && *t == m.hint_term) return j.next();
      break;
    }
    j = j.prev();
  }
  return m.hint_index;
}

void Raft::handle_append_response(const Message& m) {
  Progress& pr = progress_.at(m.from);
  if (m.reject) {
    // The answer to our current probe says the log ends below match: the
    // follower lost entries it had acknowledged (a stale, reordered
    // rejection would not answer the outstanding probe).
    if (pr.state == ProgressState::kProbe && m.index == pr.next.prev() && m.hint_term == Term{0} &&
        m.hint_index <= pr.match) {
      pr.lost_entries = true;
    }
    if (pr.maybe_decrease_to(m.index, next_from_hint(m))) {
      if (pr.state == ProgressState::kReplicate) {
        LogIndex next = pr.next;
        pr.become_probe();
        pr.next = next;
      }
      maybe_send_append(m.from, true);
    }
    return;
  }
  if (!pr.maybe_update(m.index)) return;  // stale or duplicate: nothing new
  if (pr.state == ProgressState::kProbe) {
    pr.become_replicate();
  } else if (pr.state == ProgressState::kSnapshot && pr.match.next() >= log_.first_index()) {
    pr.become_probe();
    pr.become_replicate();
  } else if (pr.state == ProgressState::kReplicate) {
    pr.inflights.free_to(m.index);
  }
  if (maybe_commit()) {
    broadcast_append(true);  // followers learn the new commit index at once
  } else {
    while (maybe_send_append(m.from, false)) {
      if (progress_.at(m.from).state != ProgressState::kReplicate) break;
    }
  }
  if (m.from == transferee_) maybe_send_timeout_now(m.from);
}

void Raft::handle_heartbeat(const Message& m) {
  log_.commit_to(std::min(m.commit, log_.last_index()));
  Message resp;
  resp.type = MessageType::kHeartbeatResponse;
  resp.to = m.from;
  resp.seq = m.seq;
  send(std::move(resp));
}

void Raft::handle_heartbeat_response(const Message& m) {
  Progress& pr = progress_.at(m.from);
  pr.probe_sent = false;
  pr.read_seq_acked = std::max(pr.read_seq_acked, m.seq);
  // The follower is reachable but the window is full: acknowledgements were
  // probably lost. Let one more append out; a gap makes the follower reject
  // it, which drops us back to probing from its real position.
  if (pr.state == ProgressState::kReplicate && pr.inflights.full()) pr.inflights.free_first_one();
  if (pr.match < log_.last_index() && pr.state != ProgressState::kSnapshot) {
    maybe_send_append(m.from, true);
  }
  maybe_release_reads();
}

bool Raft::maybe_commit() {
  LogIndex index{quorum_value(voters_, [this](NodeId id) {
    auto it = progress_.find(id);
    return it == progress_.end() ? 0 : it->second.match.value;
  })};
  if (index <= log_.committed()) return false;
  // Raft §5.4.2 (Figure 8): only an entry of the current term is committed by
  // counting replicas; earlier ones are committed indirectly with it.
  if (!cfg_.unsafe_commit_previous_term_by_counting && !log_.match_term(index, term_)) {
    return false;
  }
  log_.commit_to(index);
  on_committed();
  return true;
}

void Raft::on_committed() {
  if (committed_in_current_term() && !reads_awaiting_commit_.empty()) {
    std::vector<std::string> waiting = std::move(reads_awaiting_commit_);
    reads_awaiting_commit_.clear();
    for (std::string& ctx : waiting) start_read_round(std::move(ctx));
  }
  // Thesis §4.2.2: a leader that is not in the configuration steps down once
  // the entry removing it is committed.
  if (!contains(voters_, cfg_.id) && log_.committed() >= last_config_index()) {
    become_follower(term_, kNoNode);
  }
}

}  // namespace dmq::raft
