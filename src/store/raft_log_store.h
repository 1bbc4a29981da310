#pragma once
// The durable Raft log, hard state and latest snapshot in LMDB, beside the
// metadata tables in the same environment (so an apply and its log can share
// one transaction). Tables:
//   raft_log   be64(index) -> entry (term u64 BE, type u8, data)
//   raft_meta  "hard_state" -> term, vote, commit (3 x u64 BE)
//              "snapshot"   -> index, term, voter count, voters, data
//              "bootstrap"  -> the voters the cluster was first started with
//              "addresses"  -> the voters' HTTP addresses
// Threading: the write functions take a WriteTxn, so the caller decides the
// transaction (the Raft driver's disk thread); load() may run on any thread.

#include <optional>
#include <string>
#include <vector>

#include "raft/types.h"
#include "store/lmdb.h"

namespace dmq::store {

struct RaftDurableState {
  raft::HardState hard_state;
  raft::Snapshot snapshot;           // empty if none taken yet
  std::vector<raft::Entry> entries;  // after the snapshot, in order
  std::vector<raft::NodeId> bootstrap_voters;
  bool bootstrapped = false;  // bootstrap_voters was recorded (it may be empty: a joining node)
};

class RaftLogStore {
 public:
  explicit RaftLogStore(Env* env);

  RaftDurableState load();
  // Records the initial configuration once; later calls keep the first one.
  void set_bootstrap_voters_if_unset(WriteTxn& txn, const std::vector<raft::NodeId>& voters);

  void save_hard_state(WriteTxn& txn, const raft::HardState& hs);
  // Appends entries, deleting any stored tail from entries[0].index on first.
  void append(WriteTxn& txn, const std::vector<raft::Entry>& entries);
  // Stores a snapshot and deletes the entries through `discard_through`
  // (kDiscardAll when a follower installs a leader's snapshot: its whole log
  // is replaced). Entries kept below the snapshot serve slow readers.
  static constexpr raft::LogIndex kDiscardAll{UINT64_MAX};
  void save_snapshot(WriteTxn& txn, const raft::Snapshot& snapshot, raft::LogIndex discard_through);
  // Reads committed entries [from, to] (to inclusive) up to max_bytes (at least one).
  std::vector<raft::Entry> read(const ReadTxn& txn, raft::LogIndex from, raft::LogIndex to,
                                size_t max_bytes);
  std::optional<raft::Snapshot> read_snapshot(const ReadTxn& txn);

  // Any thread, own read transaction: entries [from, to] up to max_bytes (at
  // least one). Sets *snapshot_needed when `from` was compacted away.
  std::vector<raft::Entry> read_committed(raft::LogIndex from, raft::LogIndex to, size_t max_bytes,
                                          bool* snapshot_needed);
  std::optional<raft::Snapshot> latest_snapshot();

  // The controllers' HTTP addresses by node id ("id@host:port,..."), kept with
  // the log so a voter added at run time is reachable after a restart.
  void save_addresses(WriteTxn& txn, const std::string& encoded);
  std::string load_addresses();

 private:
  Env* env_;
  Dbi log_db_;
  Dbi meta_db_;
};

// Entry encoding shared with the snapshot/tail endpoints.
std::string encode_entry(const raft::Entry& entry);
std::optional<raft::Entry> decode_entry(raft::LogIndex index, std::string_view bytes);

}  // namespace dmq::store
