#pragma once
// Raft: the consensus state machine behind Node. Internal to src/raft; the
// public contract is in raft.h. Single-threaded, deterministic: all state
// changes come from tick(), step() and the client calls; all output is queued
// for the next Ready.
//
// Implementation files: raft_core.cpp (roles, elections, tick, step dispatch),
// raft_replication.cpp (appends, heartbeats, commit), raft_snapshot.cpp
// (chunked InstallSnapshot), raft_client.cpp (proposals, membership,
// transfer, ReadIndex), node.cpp (Ready/advance).

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raft/log.h"
#include "raft/membership.h"
#include "raft/progress.h"
#include "raft/raft.h"
#include "raft/rng.h"

namespace dmq::raft {

// kPreElection asks for pre-votes first (thesis §9.6); kTransfer is an
// election forced by TimeoutNow, whose vote requests override leader leases.
enum class CampaignKind : uint8_t { kPreElection, kElection, kTransfer };

class Raft {
 public:
  Raft(const Config& config, Storage* storage);

  void tick();
  StepResult step(const Message& m);
  void campaign(CampaignKind kind);

  ProposeResult propose(EntryType type, std::string data);
  ProposeResult propose_voter_change(EntryType type, NodeId id);
  ProposeError transfer_leadership(NodeId target);
  ProposeError read_index(std::string context);

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& rd);

  SnapshotMeta snapshot_meta(LogIndex index) const;
  Status status() const;

  NodeId id() const { return cfg_.id; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  NodeId leader() const { return lead_; }
  const RaftLog& log() const { return log_; }

 private:
  // Roles (raft_core.cpp).
  void reset(Term term);
  void become_follower(Term term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  bool promotable() const;
  void reset_randomized_timeout();
  void tick_election();
  void tick_heartbeat();
  bool quorum_active() const;
  void send(Message m);
  StepResult step_by_term(const Message& m);
  void step_follower(const Message& m);
  void step_candidate(const Message& m);
  void step_leader(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_vote_response(const Message& m);
  bool in_lease() const;

  // Configuration (raft_core.cpp).
  void load_configuration();
  void record_voter_changes(const std::vector<Entry>& entries);
  void rewind_configuration(LogIndex from);
  Voters voters_at(LogIndex index) const;
  void on_voters_changed();
  LogIndex last_config_index() const {
    return config_history_.empty() ? LogIndex{0} : config_history_.back().index;
  }

  // Replication (raft_replication.cpp).
  bool maybe_send_append(NodeId to, bool send_if_empty);
  void broadcast_append(bool send_if_empty);
  void send_heartbeat(NodeId to);
  void broadcast_heartbeat();
  void handle_append(const Message& m);
  void handle_append_response(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_heartbeat_response(const Message& m);
  LogIndex next_from_hint(const Message& m) const;
  bool maybe_commit();
  void on_committed();
  void append_entries(std::vector<Entry> entries);
  void flush_pending();

  // Snapshots (raft_snapshot.cpp).
  void send_snapshot(NodeId to, Progress& pr);
  void send_snapshot_chunk(NodeId to, Progress& pr);
  void handle_snapshot_chunk(const Message& m);
  void handle_snapshot_response(const Message& m);
  bool restore(const Snapshot& snapshot);

  // Client requests (raft_client.cpp).
  void maybe_send_timeout_now(NodeId to);
  void abort_transfer() { transferee_ = kNoNode; }
  void start_read_round(std::string context);
  void maybe_release_reads();
  bool committed_in_current_term() const;

  Config cfg_;
  RaftLog log_;
  Rng rng_;

  Term term_;
  NodeId vote_;
  NodeId lead_;
  Role role_ = Role::kFollower;

  // Configuration: voters as of first_index()-1, then one record per voter
  // change entry in the log; voters_ is the configuration at the last entry.
  struct ConfigRecord {
    LogIndex index;
    Voters voters;
  };
  Voters base_voters_;
  std::vector<ConfigRecord> config_history_;
  Voters voters_;

  std::map<NodeId, Progress> progress_;  // leader: every voter and self
  std::map<NodeId, bool> votes_;         // (pre-)candidate

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_timeout_ = 0;

  NodeId transferee_;  // leader: leadership transfer target

  // ReadIndex (thesis §6.4).
  struct PendingRead {
    std::string context;
    LogIndex index;
    uint64_t seq;
  };
  uint64_t read_seq_ = 0;            // last heartbeat round broadcast
  bool read_round_pending_ = false;  // a round must be broadcast at flush
  std::deque<PendingRead> pending_reads_;
  std::vector<std::string> reads_awaiting_commit_;
  std::vector<ReadState> read_states_;

  // Follower: the snapshot being assembled from chunks.
  std::optional<Snapshot> incoming_snapshot_;

  bool append_pending_ = false;  // leader: new entries to broadcast at flush
  std::vector<Message> msgs_;
  HardState persisted_hs_;
  bool ready_outstanding_ = false;
};

}  // namespace dmq::raft
