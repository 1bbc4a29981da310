#include "raft/log.h"

#include <algorithm>

#include "common/assert.h"

namespace dmq::raft {

RaftLog::RaftLog(Storage* storage) : storage_(storage) {
  DMQ_ASSERT(storage != nullptr);
  offset_ = storage_->last_index().next();
  committed_ = storage_->first_index().prev();
  applied_ = committed_;
}

LogIndex RaftLog::first_index() const {
  if (unstable_snapshot_) return unstable_snapshot_->meta.index.next();
  return storage_->first_index();
}

LogIndex RaftLog::last_index() const {
  if (!unstable_.empty()) return unstable_.back().index;
  if (unstable_snapshot_) return unstable_snapshot_->meta.index;
  return offset_.prev();
}

Term RaftLog::last_term() const {
  std::optional<Term> t = term(last_index());
  DMQ_ASSERT(t.has_value());
  return *t;
}

std::optional<Term> RaftLog::term(LogIndex i) const {
  if (i >= offset_) {
    uint64_t pos = i.value - offset_.value;
    if (pos < unstable_.size()) return unstable_[pos].term;
    return std::nullopt;
  }
  if (unstable_snapshot_) {
    if (i == unstable_snapshot_->meta.index) return unstable_snapshot_->meta.term;
    return std::nullopt;
  }
  if (i < storage_->first_index().prev() || i > storage_->last_index()) return std::nullopt;
  return storage_->term(i);
}

bool RaftLog::match_term(LogIndex i, Term t) const {
  std::optional<Term> found = term(i);
  return found && *found == t;
}

bool RaftLog::is_up_to_date(LogIndex index, Term t) const {
  Term mine = last_term();
  return t > mine || (t == mine && index >= last_index());
}

RaftLog::AppendResult RaftLog::maybe_append(LogIndex prev_index, Term prev_term,
                                            LogIndex leader_commit,
                                            const std::vector<Entry>& entries) {
  DMQ_ASSERT(prev_index >= committed_);
  AppendResult result;
  if (!match_term(prev_index, prev_term)) return result;
  result.last_new = LogIndex{prev_index.value + entries.size()};
  // Skip entries we already hold; the first disagreement (or the end of our
  // log) is where the new suffix starts (Figure 2, AppendEntries step 3).
  size_t first_new = entries.size();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!match_term(entries[i].index, entries[i].term)) {
      first_new = i;
      break;
    }
  }
  if (first_new < entries.size()) {
    // prev_index >= committed, so the new suffix never touches a committed entry.
    result.conflict = entries[first_new].index;
    DMQ_ASSERT(result.conflict > committed_);
    truncate_and_append(
        std::vector<Entry>(entries.begin() + static_cast<ptrdiff_t>(first_new), entries.end()));
  }
  result.matched = true;
  commit_to(std::min(leader_commit, result.last_new));
  return result;
}

void RaftLog::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  DMQ_ASSERT(entries.front().index == last_index().next());
  truncate_and_append(entries);
}

void RaftLog::truncate_and_append(const std::vector<Entry>& entries) {
  LogIndex first = entries.front().index;
  DMQ_ASSERT(first > committed_);
  DMQ_ASSERT(first <= last_index().next());
  if (first.value == offset_.value + unstable_.size()) {
    // Extends the unstable tail.
  } else if (first <= offset_) {
    // Replaces the whole unstable tail (and a stored suffix, which the adapter
    // overwrites when it appends these entries).
    offset_ = first;
    unstable_.clear();
  } else {
    unstable_.resize(first.value - offset_.value);
  }
  for (const Entry& e : entries) {
    DMQ_ASSERT(e.index == last_index().next());
    unstable_.push_back(e);
  }
}

LogIndex RaftLog::first_index_of_term_at(LogIndex index) const {
  std::optional<Term> t = term(index);
  DMQ_ASSERT(t.has_value());
  LogIndex floor = std::max(first_index(), committed_.next());
  LogIndex i = index;
  while (i > floor) {
    std::optional<Term> before = term(i.prev());
    if (!before || *before != *t) break;
    i = i.prev();
  }
  return i;
}

std::vector<Entry> RaftLog::entries(LogIndex lo, LogIndex hi, size_t max_bytes) const {
  DMQ_ASSERT(lo >= first_index());
  DMQ_ASSERT(lo <= hi);
  DMQ_ASSERT(hi <= last_index().next());
  std::vector<Entry> out;
  size_t bytes = 0;
  if (lo < offset_) {
    LogIndex stored_hi = std::min(hi, offset_);
    out = storage_->entries(lo, stored_hi, max_bytes);
    for (const Entry& e : out) bytes += e.size_bytes();
    if (out.size() < stored_hi.value - lo.value) return out;  // byte limit reached
  }
  LogIndex from = std::max(lo, offset_);
  for (uint64_t i = from.value; i < hi.value; ++i) {
    const Entry& e = unstable_[i - offset_.value];
    if (!out.empty() && bytes + e.size_bytes() > max_bytes) break;
    bytes += e.size_bytes();
    out.push_back(e);
  }
  return out;
}

void RaftLog::commit_to(LogIndex index) {
  if (index <= committed_) return;
  DMQ_ASSERT(index <= last_index());
  committed_ = index;
}

void RaftLog::applied_to(LogIndex index) {
  if (index == LogIndex{0}) return;
  DMQ_ASSERT(index <= committed_);
  DMQ_ASSERT(index >= applied_);
  applied_ = index;
}

void RaftLog::set_applied_on_restart(LogIndex applied) {
  applied_ = std::max(applied_, std::min(applied, committed_));
}

void RaftLog::restore(const Snapshot& snapshot) {
  DMQ_ASSERT(snapshot.meta.index > committed_);
  committed_ = snapshot.meta.index;
  unstable_.clear();
  offset_ = snapshot.meta.index.next();
  unstable_snapshot_ = snapshot;
}

void RaftLog::stable_to(LogIndex index, Term t) {
  if (index < offset_) return;
  uint64_t pos = index.value - offset_.value;
  // A tail replaced after the Ready was taken is not stable yet.
  if (pos >= unstable_.size() || unstable_[pos].term != t) return;
  unstable_.erase(unstable_.begin(), unstable_.begin() + static_cast<ptrdiff_t>(pos + 1));
  offset_ = index.next();
}

void RaftLog::stable_snapshot_to(LogIndex index) {
  if (unstable_snapshot_ && unstable_snapshot_->meta.index == index) unstable_snapshot_.reset();
}

LogIndex RaftLog::stable_last_index() const {
  if (unstable_snapshot_) return LogIndex{0};
  return offset_.prev();
}

bool RaftLog::has_next_committed() const {
  return !unstable_snapshot_ && committed_ > applied_;
}

std::vector<Entry> RaftLog::next_committed_entries(size_t max_bytes) const {
  if (!has_next_committed()) return {};
  LogIndex lo = std::max(applied_.next(), first_index());
  return entries(lo, committed_.next(), max_bytes);
}

}  // namespace dmq::raft
