#pragma once
// RaftLog: the log as the core sees it (etcd's raftLog) — the durable part in
// Storage plus an unstable tail (entries and maybe a snapshot) that a Ready
// has handed, or will hand, to the adapter for persisting.
//
// Invariants: every index in [first_index(), offset) is in Storage; unstable
// entries start at `offset`; applied <= committed <= last_index().

#include <optional>
#include <vector>

#include "raft/storage.h"

namespace dmq::raft {

class RaftLog {
 public:
  explicit RaftLog(Storage* storage);

  LogIndex first_index() const;
  LogIndex last_index() const;
  Term last_term() const;
  // nullopt if `i` is compacted (below first_index() - 1) or beyond the end.
  std::optional<Term> term(LogIndex i) const;
  bool match_term(LogIndex i, Term t) const;
  // Raft §5.4.1: is a log ending at (index, term) at least as up to date?
  bool is_up_to_date(LogIndex index, Term term) const;

  struct AppendResult {
    bool matched = false;  // prev entry matched; entries were taken
    LogIndex last_new;     // prev_index + entries.size()
    LogIndex conflict;     // first index rewritten (0 if nothing changed)
  };
  // Follower side of AppendEntries (Raft §5.3). Requires prev_index >= committed
  // (so a committed entry is never rewritten) and consecutive entries after
  // prev_index (Node::step validates messages before they get here).
  AppendResult maybe_append(LogIndex prev_index, Term prev_term, LogIndex leader_commit,
                            const std::vector<Entry>& entries);
  // Leader side: appends at the end. Requires entries[0].index == last_index()+1.
  void append(const std::vector<Entry>& entries);
  // First index of the run of entries sharing the term of entry `index`,
  // not below max(first_index(), committed + 1). Requires term(index) known.
  LogIndex first_index_of_term_at(LogIndex index) const;

  // [lo, hi), at most max_bytes but at least one entry. Requires
  // first_index() <= lo <= hi <= last_index() + 1.
  std::vector<Entry> entries(LogIndex lo, LogIndex hi, size_t max_bytes) const;

  void commit_to(LogIndex index);  // no-op if not higher; requires <= last_index()
  void applied_to(LogIndex index);
  // Installs a snapshot as the new log base (unstable until persisted).
  void restore(const Snapshot& snapshot);

  // Ready support.
  const std::vector<Entry>& unstable_entries() const { return unstable_; }
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_snapshot_; }
  void stable_to(LogIndex index, Term term);
  void stable_snapshot_to(LogIndex index);
  // Last index known durable (the leader counts itself only up to here).
  LogIndex stable_last_index() const;
  bool has_next_committed() const;
  std::vector<Entry> next_committed_entries(size_t max_bytes) const;

  LogIndex committed() const { return committed_; }
  LogIndex applied() const { return applied_; }
  void set_applied_on_restart(LogIndex applied);
  Storage* storage() const { return storage_; }

 private:
  void truncate_and_append(const std::vector<Entry>& entries);

  Storage* storage_;
  std::optional<Snapshot> unstable_snapshot_;
  std::vector<Entry> unstable_;
  LogIndex offset_;  // index of unstable_[0]
  LogIndex committed_;
  LogIndex applied_;
};

}  // namespace dmq::raft
