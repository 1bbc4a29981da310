#pragma once
// Storage: the core's read-only view of the durable Raft log, and MemoryStorage,
// its in-memory twin used by tests and the simulator.
//
// The adapter owns the storage object and is the only writer: it writes what a
// Ready hands it (hard state, entries, snapshot) and compacts after taking a
// snapshot. The core only reads, on the caller's thread, during Node calls.
//
// Layout: the storage holds a snapshot (possibly empty: index 0, term 0) and
// the entries after it, [first_index(), last_index()]. term(first_index() - 1)
// is the snapshot's term. An empty log has first_index() == last_index() + 1.
//
// Errors: an I/O failure in a real storage is fatal (the adapter aborts rather
// than report it; a failed fsync cannot be retried safely), so these functions
// have no error values; calls outside the documented ranges are programmer
// errors of the core and are asserted.

#include <cstddef>
#include <vector>

#include "raft/types.h"

namespace dmq::raft {

struct InitialState {
  HardState hard_state;
  // The voters as of first_index() - 1, the compaction point: the snapshot's
  // voters, or empty with nothing compacted. The core replays the
  // kAddVoter/kRemoveVoter entries of the log on top of it (a bootstrapped
  // log starts with them, see bootstrap_entries).
  std::vector<NodeId> voters;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual InitialState initial_state() const = 0;
  // Entries in [lo, hi), at most max_bytes in total but at least one entry if
  // lo < hi. Requires first_index() <= lo <= hi <= last_index() + 1.
  virtual std::vector<Entry> entries(LogIndex lo, LogIndex hi, size_t max_bytes) const = 0;
  // Requires first_index() - 1 <= i <= last_index().
  virtual Term term(LogIndex i) const = 0;
  virtual LogIndex first_index() const = 0;
  virtual LogIndex last_index() const = 0;
  virtual Snapshot snapshot() const = 0;  // the latest snapshot (maybe empty)
};

// The log a brand-new cluster starts from (the etcd way): one kAddVoter entry
// per voter, term 1, indexes 1..n, committed. Every bootstrapping node writes
// the same entries and HardState{term 1, no vote, commit n}, so their logs
// agree; a node that joins later starts with an empty storage and learns the
// configuration from these entries (or from a snapshot).
std::vector<Entry> bootstrap_entries(const std::vector<NodeId>& voters);

// Not thread-safe; one owner. Writes model "durable once the call returns".
class MemoryStorage : public Storage {
 public:
  // A fresh storage: bootstrapped with `voters` (see bootstrap_entries), or
  // empty for a node that joins an existing cluster.
  explicit MemoryStorage(std::vector<NodeId> voters = {});

  InitialState initial_state() const override;
  std::vector<Entry> entries(LogIndex lo, LogIndex hi, size_t max_bytes) const override;
  Term term(LogIndex i) const override;
  LogIndex first_index() const override;
  LogIndex last_index() const override;
  Snapshot snapshot() const override;

  void set_hard_state(const HardState& hs);
  // Appends entries, first overwriting any existing tail from entries[0].index
  // on. Entries at or below the snapshot index are skipped. Requires the first
  // entry's index <= last_index() + 1 and consecutive indexes.
  void append(const std::vector<Entry>& entries);
  // Replaces the whole log by `snapshot` (a follower installing one). Ignored
  // if not newer than the current snapshot.
  void apply_snapshot(const Snapshot& snapshot);
  // Records a snapshot of the application state at meta.index (which must be
  // in the log, or equal the current snapshot index) without discarding
  // entries; use compact() to discard them.
  void create_snapshot(const SnapshotMeta& meta, std::string data);
  // Discards entries up to and including `index` (which must be <= the
  // snapshot index held); term(index) still answers, and initial_state()
  // reports the voters as of `index`.
  void compact(LogIndex index);

  const HardState& hard_state() const { return hard_state_; }

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<NodeId> base_voters_;  // as of the compaction point
  // entries_[0] is a sentinel at (compacted_index, compacted_term).
  std::vector<Entry> entries_;
};

}  // namespace dmq::raft
