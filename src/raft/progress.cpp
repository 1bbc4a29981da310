#include "raft/progress.h"

#include <algorithm>

#include "common/assert.h"

namespace dmq::raft {

void Inflights::add(LogIndex last) {
  DMQ_ASSERT(!full());
  DMQ_ASSERT(items_.empty() || items_.back() <= last);
  items_.push_back(last);
}

void Inflights::free_to(LogIndex index) {
  while (!items_.empty() && items_.front() <= index) items_.pop_front();
}

void Progress::become_probe() {
  // Leaving Snapshot, resume after the snapshot; otherwise right after match.
  if (state == ProgressState::kSnapshot && snapshot) {
    next = std::max(match, snapshot->meta.index).next();
  } else {
    next = match.next();
  }
  state = ProgressState::kProbe;
  probe_sent = false;
  inflights.reset();
  snapshot.reset();
  snapshot_offset = 0;
}

void Progress::become_replicate() {
  state = ProgressState::kReplicate;
  next = match.next();
  probe_sent = false;
  inflights.reset();
  snapshot.reset();
}

void Progress::become_snapshot(std::shared_ptr<const Snapshot> snap) {
  DMQ_ASSERT(snap != nullptr);
  state = ProgressState::kSnapshot;
  probe_sent = false;
  inflights.reset();
  snapshot = std::move(snap);
  snapshot_offset = 0;
  snapshot_progressed = true;
}

bool Progress::maybe_update(LogIndex index) {
  bool updated = false;
  if (match < index) {
    match = index;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, index.next());
  return updated;
}

void Progress::optimistic_update(LogIndex last) {
  next = last.next();
}

bool Progress::maybe_decrease_to(LogIndex rejected, LogIndex hint_next) {
  if (state == ProgressState::kSnapshot) return false;
  if (state == ProgressState::kReplicate) {
    // Only the rejection of something beyond match is news.
    if (rejected <= match) return false;
    next = std::max(match.next(), std::min(hint_next, rejected));
    return true;
  }
  // Probe: only the answer to the outstanding probe (prev index next-1)
  // counts, and a rejection at or below match can only come from a follower
  // that lost acknowledged entries (a wiped disk): retrying from there would
  // loop, so it is treated as stale.
  if (next.prev() != rejected || rejected <= match) return false;
  next = std::max(match.next(), std::min(hint_next, rejected));
  if (next == LogIndex{0}) next = LogIndex{1};
  probe_sent = false;
  return true;
}

bool Progress::is_paused() const {
  switch (state) {
    case ProgressState::kProbe:
      return probe_sent;
    case ProgressState::kReplicate:
      return inflights.full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

}  // namespace dmq::raft
