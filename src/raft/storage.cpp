#include "raft/storage.h"

#include "common/assert.h"
#include "raft/membership.h"

namespace dmq::raft {

std::vector<Entry> bootstrap_entries(const std::vector<NodeId>& voters) {
  std::vector<Entry> out;
  for (NodeId id : normalized(voters)) {
    out.push_back(
        Entry{Term{1}, LogIndex{out.size() + 1}, EntryType::kAddVoter, encode_node_id(id)});
  }
  return out;
}

MemoryStorage::MemoryStorage(std::vector<NodeId> voters) {
  entries_.push_back(Entry{});  // sentinel at (0, 0)
  std::vector<Entry> boot = bootstrap_entries(voters);
  if (boot.empty()) return;
  append(boot);
  hard_state_ = HardState{Term{1}, kNoNode, boot.back().index};
}

InitialState MemoryStorage::initial_state() const {
  return InitialState{hard_state_, base_voters_};
}

LogIndex MemoryStorage::first_index() const {
  return entries_.front().index.next();
}

LogIndex MemoryStorage::last_index() const {
  return entries_.back().index;
}

Term MemoryStorage::term(LogIndex i) const {
  LogIndex base = entries_.front().index;
  DMQ_ASSERT(i >= base);
  DMQ_ASSERT(i <= last_index());
  return entries_[i.value - base.value].term;
}

std::vector<Entry> MemoryStorage::entries(LogIndex lo, LogIndex hi, size_t max_bytes) const {
  DMQ_ASSERT(lo >= first_index());
  DMQ_ASSERT(lo <= hi);
  DMQ_ASSERT(hi <= last_index().next());
  std::vector<Entry> out;
  size_t bytes = 0;
  uint64_t base = entries_.front().index.value;
  for (uint64_t i = lo.value; i < hi.value; ++i) {
    const Entry& e = entries_[i - base];
    if (!out.empty() && bytes + e.size_bytes() > max_bytes) break;
    bytes += e.size_bytes();
    out.push_back(e);
  }
  return out;
}

Snapshot MemoryStorage::snapshot() const {
  return snapshot_;
}

void MemoryStorage::set_hard_state(const HardState& hs) {
  hard_state_ = hs;
}

void MemoryStorage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  LogIndex base = entries_.front().index;
  size_t skip = 0;
  while (skip < entries.size() && entries[skip].index <= base) ++skip;
  if (skip == entries.size()) return;
  LogIndex first = entries[skip].index;
  DMQ_ASSERT(first <= last_index().next());
  entries_.resize(first.value - base.value);  // drop the overwritten tail
  for (size_t i = skip; i < entries.size(); ++i) {
    DMQ_ASSERT(entries[i].index == last_index().next());
    entries_.push_back(entries[i]);
  }
}

void MemoryStorage::apply_snapshot(const Snapshot& snapshot) {
  if (snapshot.meta.index <= snapshot_.meta.index) return;
  snapshot_ = snapshot;
  entries_.clear();
  entries_.push_back(Entry{snapshot.meta.term, snapshot.meta.index, EntryType::kNoOp, {}});
  base_voters_ = normalized(snapshot.meta.voters);
}

void MemoryStorage::create_snapshot(const SnapshotMeta& meta, std::string data) {
  DMQ_ASSERT(meta.index >= snapshot_.meta.index);
  DMQ_ASSERT(meta.index >= entries_.front().index);
  DMQ_ASSERT(meta.index <= last_index());
  snapshot_.meta = meta;
  snapshot_.meta.voters = normalized(meta.voters);
  snapshot_.data = std::move(data);
}

void MemoryStorage::compact(LogIndex index) {
  LogIndex base = entries_.front().index;
  if (index <= base) return;
  DMQ_ASSERT(index <= snapshot_.meta.index);
  DMQ_ASSERT(index <= last_index());
  for (uint64_t i = base.value + 1; i <= index.value; ++i) {
    apply_voter_change(base_voters_, entries_[i - base.value]);
  }
  entries_.erase(entries_.begin(), entries_.begin() + (index.value - base.value));
  entries_.front().data.clear();
  entries_.front().type = EntryType::kNoOp;
}

}  // namespace dmq::raft
