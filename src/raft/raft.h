#pragma once
// DMQ's Raft core: a deterministic, single-threaded consensus state machine in
// the etcd-raft shape. It does no I/O and reads no clock: time arrives through
// tick(), network input through step(), client requests through propose*() and
// read_index(); everything the core wants done leaves in a Ready batch.
//
// Threads: a Node is not thread-safe. All calls come from one thread (the
// adapter's event loop); the Storage it reads is written only by that thread.
//
// The adapter loop (every rule below is needed for safety):
//
//   node.tick() every tick interval; node.step(m) for every message received;
//   while (node.has_ready()) {
//     Ready rd = node.ready();
//     1. if rd.snapshot: install it into storage (storage.apply_snapshot).
//     2. append rd.entries to the stable log (overwriting any tail from
//        rd.entries[0].index on) and write rd.hard_state if set, then fsync.
//        Steps 1-2 must be durable BEFORE step 3: a vote or an acknowledgement
//        sent before it is on disk can be forgotten by a crash, and then a
//        node can vote twice in a term or a committed entry can be lost
//        (Raft paper Figure 2, "respond to RPCs only after updating stable
//        storage").
//     3. send rd.messages (any order; losing some is fine).
//     4. apply rd.committed_entries in order (the kNoOp and voter entries need
//        no state-machine action but their index counts as applied), and serve
//        rd.read_states once the applied index reaches ReadState::index.
//     node.advance(rd);
//   }
//
// Restart: construct a new Node over the same storage; it resumes term, vote,
// log and configuration from Storage. Config::applied tells it how far the
// application had applied (the adapter persists that with the application
// state), so nothing is applied twice.
//
// Bootstrap: a new cluster's nodes each write bootstrap_entries(voters)
// (storage.h) before the first Node is built. Joining and wiped nodes: a node
// with an empty storage is joining; it never campaigns and only accepts a
// leader's entries or snapshot until a kAddVoter entry naming it reaches its
// log. A voter restarted with a wiped
// data directory has lost its vote record; if it were bootstrapped as a voter
// again it could vote twice in a term. Such a node cannot disrupt a healthy
// cluster (its empty log loses every pre-vote, and followers inside a leader
// lease ignore it: thesis §4.2.3, §9.6); the leader never repairs it (its
// acknowledgements were counted already) and reports it in
// PeerStatus::lost_entries. The only safe recovery is: remove it
// (propose_remove_voter), start it empty as a joining node, add it again.
//
// Membership: one voter added or removed at a time (thesis §4.1); the new
// configuration is used as soon as its entry is appended; a second change is
// refused until the first is committed, and a leader only proposes a change
// after committing an entry of its own term (the fix to the single-server
// change bug described on the raft-dev list in 2015). A leader that removes
// itself keeps leading until the removal commits, then steps down.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raft/storage.h"
#include "raft/types.h"

namespace dmq::raft {

struct Config {
  NodeId id;
  // A follower that hears no leader for a random time in
  // [election_tick, 2 * election_tick) ticks starts an election (Raft §5.2).
  // Failover takes that timeout plus two round trips (pre-vote, vote): with
  // 100 ms ticks, 1-2 s; with 150 ms ticks up to 3 s, too slow for a 3 s goal.
  int election_tick = 10;
  int heartbeat_tick = 1;                 // leader heartbeat interval; must be < election_tick
  bool pre_vote = true;                   // thesis §9.6
  bool check_quorum = true;               // leader steps down without a quorum for election_tick
  size_t max_inflight = 256;              // append messages in flight per follower
  size_t max_entries_bytes = 1 << 20;     // per append message (at least one entry)
  size_t max_apply_bytes = 4 << 20;       // committed_entries per Ready (at least one)
  size_t snapshot_chunk_bytes = 1 << 20;  // InstallSnapshot chunk size
  uint64_t seed = 1;                      // seeds the election timeout generator
  LogIndex applied;                       // restart: last index the application applied

  // Test hooks that break safety on purpose, so the simulator can prove that
  // its checker notices. Never set outside tests.
  bool unsafe_commit_previous_term_by_counting = false;  // violates Raft §5.4.2
};

// Why a proposal or request was refused. kOk means appended (not committed).
enum class ProposeError : uint8_t {
  kOk = 0,
  kNotLeader,            // ask Status::leader (may be kNoNode)
  kTransferring,         // a leadership transfer is in progress
  kConfigChangePending,  // an earlier voter change is not committed yet, or
                         // the leader has not committed an entry of its term
  kInvalid,              // add an existing voter, remove a non-voter, ...
};
const char* to_string(ProposeError error);

struct ProposeResult {
  ProposeError error = ProposeError::kOk;
  LogIndex index;  // where the entry was appended (kOk only)
  Term term;       // the entry is committed iff (index, term) comes back in
                   // committed_entries; another term there means it was lost
};

enum class StepResult : uint8_t {
  kOk = 0,
  kIgnored,    // stale, not for this node, or from an unknown sender
  kMalformed,  // inconsistent fields (e.g. non-consecutive entries); dropped
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* to_string(Role role);

struct Ready {
  std::optional<HardState> hard_state;   // persist (fsync) before sending messages
  std::vector<Entry> entries;            // append to stable log (may overwrite a tail)
  std::optional<Snapshot> snapshot;      // install before applying
  std::vector<Message> messages;         // send after the above are durable
  std::vector<Entry> committed_entries;  // apply in order
  std::vector<ReadState> read_states;    // serve once applied >= index

  bool empty() const {
    return !hard_state && entries.empty() && !snapshot && messages.empty() &&
           committed_entries.empty() && read_states.empty();
  }
};

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };
const char* to_string(ProgressState state);

struct PeerStatus {
  NodeId id;
  LogIndex match;  // leader only: highest index known replicated there
  LogIndex next;   // leader only
  ProgressState state = ProgressState::kProbe;
  bool recent_active = false;
  // The follower's log ended below entries it had acknowledged: it lost data
  // it had persisted (a wiped or restored data directory). See "Joining and
  // wiped nodes" above; an operator should remove and re-add it.
  bool lost_entries = false;
};

struct Status {
  NodeId id;
  Role role = Role::kFollower;
  Term term;
  NodeId vote;
  NodeId leader;  // kNoNode if unknown
  LogIndex commit;
  LogIndex applied;
  LogIndex first_index;
  LogIndex last_index;
  std::vector<NodeId> voters;     // current configuration (as of the last entry)
  std::vector<PeerStatus> peers;  // leader only: one per voter, self included
  NodeId transferee;              // leader only: transfer target or kNoNode
};

class Raft;  // the state machine behind Node (raft/raft_core.h)

class Node {
 public:
  // `storage` must outlive the node. Reads the initial state from it.
  Node(const Config& config, Storage* storage);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void tick();
  StepResult step(const Message& m);

  // Leader only. Appends a kNormal entry.
  ProposeResult propose(std::string data);
  ProposeResult propose_add_voter(NodeId id);
  ProposeResult propose_remove_voter(NodeId id);
  // Leader only: hands leadership to `target` (thesis §3.10) once its log is
  // up to date; proposals are refused for at most an election timeout.
  ProposeError transfer_leadership(NodeId target);
  // Leader only: a ReadState with this context comes back in a later Ready
  // once a heartbeat round confirmed leadership (thesis §6.4).
  ProposeError read_index(std::string context);
  // Starts an election now (tests, single-node bootstrap). No-op on a leader
  // or a node that is not a voter.
  void campaign();

  bool has_ready() const;
  // Requires has_ready(). Call advance() with the result before the next
  // ready(); tick/step/propose are allowed in between.
  Ready ready();
  // After the Ready was persisted, sent and applied as described above.
  void advance(const Ready& rd);

  // Term and voters as of `index`, for the adapter to record a snapshot of the
  // application state. Requires first_index - 1 <= index <= applied.
  SnapshotMeta snapshot_meta(LogIndex index) const;

  Status status() const;
  // Term of the entry at `index` in this node's log, persisted or not;
  // nullopt if compacted away (below first_index - 1) or beyond the end.
  std::optional<Term> term_at(LogIndex index) const;
  NodeId id() const;
  Role role() const;
  Term term() const;
  NodeId leader() const;
  LogIndex commit_index() const;  // cheap parts of status()
  LogIndex applied_index() const;

 private:
  std::unique_ptr<Raft> raft_;
};

}  // namespace dmq::raft
