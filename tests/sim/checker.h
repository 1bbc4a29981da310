#pragma once
// Invariant checker for the Raft simulator. The simulator reports what nodes
// persist, apply and install, and calls after_step() after every event; the
// first violated invariant is kept in violation() (the run then stops).
//
// Checked (Raft paper Figure 3):
// - election safety: at most one leader per term, ever;
// - log matching: an (index, term) pair names one entry everywhere, with one
//   predecessor term, checked on every entry any node persists;
// - leader completeness: a node that becomes leader holds every entry any
//   node has applied (from its compaction point on);
// - state-machine safety: every node applies the same entry at each index,
//   in order without gaps, and snapshots carry the same history;
// - per node: term, commit and applied never decrease within an incarnation
//   (a crash may lose an unpersisted term, which is fine);
// - ReadIndex: a read returns an index covering every write acknowledged
//   before the read was issued.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raft/raft.h"

namespace dmq::raft::sim {

uint64_t fnv1a(const std::string& data, uint64_t seed = 1469598103934665603ULL);
uint64_t entry_hash(const Entry& e);
// Rolling hash of an applied history, extended by one entry.
uint64_t chain_hash(uint64_t prev, const Entry& e);

class Checker {
 public:
  bool ok() const { return violation_.empty(); }
  const std::string& violation() const { return violation_; }

  void on_persist(NodeId node, const std::vector<Entry>& entries, const MemoryStorage& storage);
  // `chain` is the node's history hash after applying `e`.
  void on_apply(NodeId node, LogIndex expected_index, const Entry& e, uint64_t chain);
  void on_install_snapshot(NodeId node, LogIndex index, uint64_t chain);
  // Called after every simulation event with every live node (and its
  // incarnation number, which changes on restart).
  void after_step(const std::vector<std::pair<const Node*, uint64_t>>& nodes);
  void on_read_issued(NodeId node, const std::string& context, LogIndex acked_index);
  void on_read_state(NodeId node, const ReadState& rs);
  void fail(std::string what);

  // Highest index of any acknowledged write so far (for ReadIndex checks).
  LogIndex max_acked() const { return max_acked_; }
  void on_acked(LogIndex index) { max_acked_ = std::max(max_acked_, index); }

 private:
  struct NodeMemory {
    Term term;
    uint64_t incarnation = 0;
    LogIndex commit;
    LogIndex applied;
    Role role = Role::kFollower;
  };
  struct EntryRecord {
    uint64_t hash;
    Term prev_term;
    bool prev_known;
  };
  void check_leader_completeness(const Node& n);

  std::string violation_;
  std::map<Term, NodeId> leaders_;
  std::map<std::pair<uint64_t, uint64_t>, EntryRecord> entries_;  // (index, term)
  std::map<LogIndex, std::pair<Term, uint64_t>> applied_;         // index -> (term, chain)
  std::map<NodeId, NodeMemory> memory_;
  std::map<std::string, LogIndex> reads_;  // context -> acked index at issue
  LogIndex max_acked_;
};

}  // namespace dmq::raft::sim
