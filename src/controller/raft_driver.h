#pragma once
// The adapter around the pure Raft core (src/raft): it owns the raft::Node,
// drives it with timer ticks and peer messages on the event loop, persists
// every Ready in LMDB on a disk thread (one transaction, one fsync, for the
// log, the hard state and the state-machine applies: group commit), sends the
// Ready's messages only after that commit (persist-before-send), and hands
// committed entries to the application's RaftStateMachine.
//
// Threads: everything named "loop" runs on the net::EventLoop thread; "any" may be
// called from HTTP threads. The core and the in-memory log mirror are touched
// only on the loop thread; LMDB is written only on the disk thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/record_format.h"
#include "common/options.h"
#include "common/serial_worker.h"
#include "net/event_loop.h"
#include "net/peer_sender.h"
#include "raft/raft.h"
#include "store/lmdb.h"
#include "store/raft_log_store.h"
#include "store/raft_state_machine.h"
#include "trace/span.h"

namespace dmq::controller {

using store::RaftStateMachine;

// What the driver replicates about the controllers themselves: their HTTP
// addresses (so a voter added at run time is reachable), and which members
// have joined, i.e. held part of the log (so a member restarted with a wiped
// data dir is recognised and cannot vote as if it were new).
struct PeerBook {
  std::map<uint64_t, HostPort> addresses;
  std::set<uint64_t> initialized;
};

struct RaftDriverConfig {
  raft::NodeId id;
  std::vector<Voter> voters;  // bootstrap configuration and peer addresses
  int tick_ms = 100;
  int election_tick = 10;
  uint64_t snapshot_every_entries = 10000;
  uint64_t entries_kept_after_snapshot = 1000;  // so a slightly slow follower needs no snapshot
  // Asked once, when the data dir holds no Raft state: true if the peers
  // record this node as a member that held log entries, i.e. its data dir was
  // wiped. It then joins as a non-voter instead of bootstrapping as a voter.
  std::function<bool()> is_wiped_member;
};

enum class ProposeStatus {
  kCommitted,  // applied on this node
  kNotLeader,  // see leader_hint
  kLost,       // the entry was overwritten by another leader's
  kTimeout,    // not committed in time (no quorum?)
  kRejected,   // the core refused (message in `reason`)
  kShuttingDown,
};

struct ProposeOutcome {
  ProposeStatus status = ProposeStatus::kTimeout;
  raft::LogIndex index;
  raft::NodeId leader_hint;
  std::string reason;
};

class RaftDriver {
 public:
  RaftDriver(net::EventLoop& loop, store::Env& env, RaftStateMachine& state_machine,
             RaftDriverConfig config);
  ~RaftDriver();

  // Loop thread. Loads the durable state, starts ticking. Throws StoreError,
  // or std::runtime_error when this node must not start (a wiped member).
  void start();
  // Loop thread: stops ticking, flushes the disk thread, stops the senders.
  void stop();

  // Loop thread: delivers peer messages to the core.
  void receive(std::vector<raft::Message> messages);

  using ProposeCallback = std::function<void(const ProposeOutcome&)>;
  // Loop thread. The callback runs on the loop thread once the entry is
  // applied here, or with the reason it cannot be.
  void propose(std::string data, ProposeCallback done);
  // The same, recorded as a "raft.commit" span under `parent` when tracing is on.
  void propose_traced(std::string data, const std::optional<trace::SpanContext>& parent,
                      ProposeCallback done);
  void propose_add_voter(raft::NodeId id, HostPort address, ProposeCallback done);
  void propose_remove_voter(raft::NodeId id, ProposeCallback done);
  raft::ProposeError transfer_leadership(raft::NodeId target);  // loop thread

  // Any thread: proposes through the loop and waits.
  ProposeOutcome propose_and_wait(std::string data, std::chrono::milliseconds timeout);

  // Loop thread.
  raft::Status status() const;
  std::optional<HostPort> address_of(raft::NodeId id) const;
  // Any thread: whether `id` is recorded as having joined (held log entries).
  bool has_joined(raft::NodeId id) const;

  // Loop thread: runs `fn` on the loop after every apply (state has moved),
  // before applied_index() moves and proposals complete.
  void on_applied(std::function<void(raft::LogIndex)> fn) {
    applied_listeners_.push_back(std::move(fn));
  }

  // Any thread.
  raft::LogIndex applied_index() const { return raft::LogIndex(applied_.load()); }
  raft::NodeId leader_id() const { return raft::NodeId(leader_.load()); }
  // Blocks until the applied index reaches `index` or the timeout passes.
  bool wait_applied(raft::LogIndex index, std::chrono::milliseconds timeout);
  store::RaftLogStore& log_store() { return *log_store_; }
  // The application's part of a stored Raft snapshot (which also carries the
  // driver's peer book); nullopt if malformed.
  static std::optional<std::string> application_snapshot(const std::string& data);

 private:
  struct Waiter {
    raft::Term term;
    ProposeCallback done;
    std::chrono::steady_clock::time_point proposed_at;
    std::chrono::steady_clock::time_point deadline;
  };

  void schedule_tick();
  void maybe_process_ready();
  void send_replication_early(raft::Ready& rd);
  void persist_on_disk_thread(const raft::Ready& rd);
  void on_persisted(std::shared_ptr<raft::Ready> rd);
  void complete_waiters(const raft::Entry& entry);
  void expire_waiters();
  void maybe_snapshot();
  void register_proposal(const raft::ProposeResult& result, ProposeCallback done);
  void track_peers();
  void apply_driver_record(store::WriteTxn& txn, const raft::Entry& entry);
  void update_metrics();
  void maybe_mark_joined();
  void forget_member(store::WriteTxn& txn, const raft::Entry& entry);

  net::EventLoop& loop_;
  store::Env& env_;
  RaftStateMachine& state_machine_;
  RaftDriverConfig config_;
  std::unique_ptr<store::RaftLogStore> log_store_;
  raft::MemoryStorage mirror_;
  raft::HardState mirror_hard_state_;     // disk thread: the last hard state written
  raft::HardState persisted_hard_state_;  // loop thread: the same, once known durable
  std::unique_ptr<raft::Node> node_;
  SerialWorker disk_{"raft-disk"};
  asio::steady_timer tick_timer_;
  bool disk_busy_ = false;
  bool ready_scheduled_ = false;
  bool stopped_ = false;
  uint64_t last_snapshot_index_ = 0;
  bool snapshot_in_flight_ = false;

  std::map<uint64_t, Waiter> waiters_;  // by log index
  std::map<uint64_t, std::unique_ptr<net::PeerSender>> senders_;
  // Replicated as driver records; written on the disk thread and read on
  // the loop and HTTP threads, hence the mutex.
  mutable std::mutex book_mutex_;
  PeerBook book_;
  std::set<uint64_t> joined_proposed_;  // loop thread

  std::vector<std::function<void(raft::LogIndex)>> applied_listeners_;
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> leader_{0};
  std::mutex applied_mutex_;
  std::condition_variable applied_cv_;
  uint64_t last_role_ = 0;
};

}  // namespace dmq::controller
