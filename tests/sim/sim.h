#pragma once
// A seeded, single-threaded Raft cluster simulator (TigerBeetle's VOPR idea):
// nodes over a network that drops, delays, duplicates and reorders messages,
// with partitions (asymmetric too), crashes that lose whatever was not yet
// persisted, restarts from storage, uneven clocks, client writes and reads,
// membership changes, snapshots and compaction, and leadership transfers.
// The same seed always replays the same run.
//
// Phases: a fault-heavy safety phase, checked after every event by Checker;
// then a healing phase (network healed, every node restarted) in which a
// leader must emerge within a bound and every acknowledged write must be
// applied on every voter.

#include <cstdint>
#include <string>

namespace dmq::raft::sim {

enum class Broken : uint8_t {
  kNone,
  kCommitPreviousTerm,  // Config::unsafe_commit_previous_term_by_counting
  kSendBeforePersist,   // the adapter sends a Ready's messages before persisting it
};

struct SimOptions {
  uint64_t seed = 1;
  int nodes = 3;  // initial voters; one spare node joins later
  bool verbose = false;
  bool trace_messages = false;  // with verbose: every delivered message
  Broken broken = Broken::kNone;
  int64_t safety_time = 6000;  // time units; a node ticks every 8..12 units
  int64_t heal_time = 3000;
  // Multiplies crash, partition and client-write rates (and shortens
  // downtimes): harsher schedules reach rare interleavings sooner.
  double fault_scale = 1.0;
  double early_leader_crash = 0.1;  // chance a new leader crashes within 30 units
  size_t batch_bytes = 0;           // Config::max_entries_bytes; 0 = chosen by seed
};

struct SimResult {
  bool ok = true;
  std::string failure;  // the violated invariant or liveness failure
  uint64_t acked_writes = 0;
  uint64_t elections = 0;  // distinct leader terms seen
  uint64_t snapshots_installed = 0;
  uint64_t config_changes = 0;
  uint64_t reads_served = 0;  // ReadIndex results checked
};

SimResult run_simulation(const SimOptions& options);

}  // namespace dmq::raft::sim
