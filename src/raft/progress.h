#pragma once
// What a leader knows about one follower's log (etcd's tracker.Progress):
// match/next indexes, the replication mode, and the window of append messages
// in flight. Leader-only, owned by the Raft state machine.

#include <cstddef>
#include <deque>
#include <memory>

#include "raft/raft.h"

namespace dmq::raft {

// Last indexes of append messages sent and not yet acknowledged, oldest first.
class Inflights {
 public:
  explicit Inflights(size_t capacity) : capacity_(capacity) {}
  bool full() const { return items_.size() >= capacity_; }
  size_t count() const { return items_.size(); }
  void add(LogIndex last);       // requires !full() and last >= the previous add
  void free_to(LogIndex index);  // forgets every message ending at or below index
  void free_first_one() {
    if (!items_.empty()) items_.pop_front();
  }
  void reset() { items_.clear(); }

 private:
  size_t capacity_;
  std::deque<LogIndex> items_;
};

class Progress {
 public:
  Progress(LogIndex next, size_t max_inflight) : next(next), inflights(max_inflight) {}

  // Probe: one append at a time until the follower's log position is found.
  // Replicate: optimistic pipelining, next runs ahead of match (thesis §10.2.1).
  // Snapshot: a snapshot is being sent; no appends until it is acknowledged.
  void become_probe();
  void become_replicate();
  void become_snapshot(std::shared_ptr<const Snapshot> snapshot);

  // A success acknowledgement up to `index`. Returns false if stale.
  bool maybe_update(LogIndex index);
  // An append carrying entries up to `last` was sent in Replicate mode.
  void optimistic_update(LogIndex last);
  // A rejection of the append whose prev index was `rejected`; `hint_next` is
  // where the leader's search suggests to retry. Returns false if stale.
  bool maybe_decrease_to(LogIndex rejected, LogIndex hint_next);
  bool is_paused() const;

  LogIndex match;
  LogIndex next;
  ProgressState state = ProgressState::kProbe;
  bool probe_sent = false;      // Probe: an append is outstanding
  bool recent_active = false;   // heard from since the last check-quorum round
  bool lost_entries = false;    // its log ended below what it had acknowledged
  uint64_t read_seq_acked = 0;  // highest ReadIndex heartbeat round acknowledged
  Inflights inflights;

  // Snapshot mode: the snapshot in transfer and the offset of the chunk to
  // send next (stop-and-wait: one chunk in flight).
  std::shared_ptr<const Snapshot> snapshot;
  uint64_t snapshot_offset = 0;
  bool snapshot_progressed = false;  // an ack arrived since the last heartbeat
};

}  // namespace dmq::raft
