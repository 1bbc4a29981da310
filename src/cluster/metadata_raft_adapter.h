#pragma once
// Connects the MetadataStore to the Raft driver (store::RaftStateMachine):
// committed entries are applied in the driver's LMDB transaction, and the
// outcome of each entry is kept briefly so the proposer can report it (a
// topic creation that lost a race is applied as a no-op with a reason).
//
// Threads: every RaftStateMachine method runs on the driver's disk thread;
// outcome() and state reads via with_state() may run on any thread.

#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "cluster/metadata_store.h"
#include "store/raft_state_machine.h"

namespace dmq::cluster {

class MetadataRaftAdapter : public store::RaftStateMachine {
 public:
  explicit MetadataRaftAdapter(MetadataStore& store) : store_(store) {}

  raft::LogIndex applied_index() override;
  void stage(const std::vector<raft::Entry>& entries) override;
  void write_staged(store::WriteTxn& txn) override;
  void publish_staged() override;
  std::string snapshot() override;
  void restore(const std::string& data, raft::LogIndex index) override;

  // The apply outcome of the entry at `index`, if it was applied recently.
  std::optional<Status> outcome(raft::LogIndex index);
  // Runs `fn` with the current state under the lock (any thread).
  void with_state(const std::function<void(const MetadataState&)>& fn);

 private:
  static constexpr size_t kOutcomesKept = 4096;
  MetadataStore& store_;
  std::mutex mutex_;  // guards store_'s current state against readers, and outcomes_
  std::map<uint64_t, Status> outcomes_;
};

}  // namespace dmq::cluster
