// Snapshots: sending a follower that is behind the compacted log a snapshot in
// chunks, and assembling and installing it on the follower (Raft §7).

#include "common/assert.h"
#include "raft/raft_core.h"

namespace dmq::raft {

void Raft::send_snapshot(NodeId to, Progress& pr) {
  auto snap = std::make_shared<const Snapshot>(log_.storage()->snapshot());
  // The adapter snapshots before it compacts, so a compacted log always has a
  // snapshot covering the compacted part.
  DMQ_ASSERT(!snap->empty());
  pr.become_snapshot(std::move(snap));
  send_snapshot_chunk(to, pr);
}

void Raft::send_snapshot_chunk(NodeId to, Progress& pr) {
  DMQ_ASSERT(pr.snapshot != nullptr);
  const Snapshot& snap = *pr.snapshot;
  uint64_t size = snap.data.size();
  uint64_t offset = std::min<uint64_t>(pr.snapshot_offset, size);
  uint64_t len = std::min<uint64_t>(cfg_.snapshot_chunk_bytes, size - offset);
  Message m;
  m.type = MessageType::kSnapshot;
  m.to = to;
  m.snapshot_meta = snap.meta;
  m.snapshot_offset = offset;
  m.snapshot_data = snap.data.substr(offset, len);
  m.snapshot_done = offset + len == size;
  send(std::move(m));
}

void Raft::handle_snapshot_response(const Message& m) {
  Progress& pr = progress_.at(m.from);
  if (pr.state != ProgressState::kSnapshot || !(m.snapshot_meta == pr.snapshot->meta)) return;
  if (m.reject) {
    // The follower cannot take it (yet); probe again from match.
    pr.become_probe();
    return;
  }
  pr.snapshot_progressed = true;
  if (m.snapshot_offset > pr.snapshot_offset) {
    // Our chunk arrived: send the next one at once.
    pr.snapshot_offset = m.snapshot_offset;
    send_snapshot_chunk(m.from, pr);
  } else if (m.snapshot_offset < pr.snapshot_offset) {
    // The follower lost what it had (restart): rewind; the heartbeat resends.
    pr.snapshot_offset = m.snapshot_offset;
    pr.snapshot_progressed = false;
  }
}

void Raft::handle_snapshot_chunk(const Message& m) {
  const SnapshotMeta& meta = m.snapshot_meta;
  Message resp;
  resp.to = m.from;
  if (meta.index <= log_.committed()) {
    // Already have it all: report our commit index so the leader moves on.
    incoming_snapshot_.reset();
    resp.type = MessageType::kAppendResponse;
    resp.index = log_.committed();
    send(std::move(resp));
    return;
  }
  resp.type = MessageType::kSnapshotResponse;
  resp.snapshot_meta = meta;
  bool same = incoming_snapshot_ && incoming_snapshot_->meta == meta;
  if (m.snapshot_offset == 0) {
    incoming_snapshot_ = Snapshot{meta, m.snapshot_data};
  } else if (same && m.snapshot_offset == incoming_snapshot_->data.size()) {
    incoming_snapshot_->data += m.snapshot_data;
  } else {
    // Out of order or a chunk of a snapshot we do not hold: say where we are.
    resp.snapshot_offset = same ? incoming_snapshot_->data.size() : 0;
    send(std::move(resp));
    return;
  }
  if (!m.snapshot_done) {
    resp.snapshot_offset = incoming_snapshot_->data.size();
    send(std::move(resp));
    return;
  }
  Snapshot snap = std::move(*incoming_snapshot_);
  incoming_snapshot_.reset();
  restore(snap);
  resp = Message{};
  resp.type = MessageType::kAppendResponse;
  resp.to = m.from;
  resp.index = log_.committed();  // up to the snapshot, our log matches the leader
  send(std::move(resp));
}

bool Raft::restore(const Snapshot& snap) {
  if (snap.meta.index <= log_.committed()) return false;
  if (log_.match_term(snap.meta.index, snap.meta.term)) {
    // Our log already holds the snapshot's last entry: keep the log and just
    // learn that everything up to it is committed.
    log_.commit_to(snap.meta.index);
    return false;
  }
  log_.restore(snap);
  base_voters_ = normalized(snap.meta.voters);
  config_history_.clear();
  on_voters_changed();
  return true;
}

}  // namespace dmq::raft
