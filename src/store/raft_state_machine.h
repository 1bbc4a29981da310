#pragma once
// The interface between the Raft driver (net/raft_driver.h) and the
// application state it replicates (the cluster metadata store). Applying is
// split in three so the applies share the LMDB transaction, and the fsync,
// that persists the Raft log: a whole Ready batch is one commit.

#include <string>
#include <vector>

#include "raft/types.h"
#include "store/lmdb.h"

namespace dmq::store {

class RaftStateMachine {
 public:
  virtual ~RaftStateMachine() = default;
  // Start-up: the last applied index persisted with the state.
  virtual raft::LogIndex applied_index() = 0;
  // Disk thread, before the transaction: computes the effect of committed
  // entries. Entries with empty data (no-ops, voter changes, driver records)
  // only move the applied index. Bad data applies as a no-op, the same on
  // every node; this must not throw for bad data.
  virtual void stage(const std::vector<raft::Entry>& entries) = 0;
  // Disk thread, inside the transaction; may run more than once (Env::write
  // re-runs after growing the map), so it only copies staged changes in.
  virtual void write_staged(WriteTxn& txn) = 0;
  // Disk thread, after the commit: the staged state becomes current.
  virtual void publish_staged() = 0;
  // Disk thread: the whole state as of the applied index.
  virtual std::string snapshot() = 0;
  // Disk thread: replaces the whole state by a snapshot's (own transaction).
  virtual void restore(const std::string& data, raft::LogIndex index) = 0;
};

}  // namespace dmq::store
