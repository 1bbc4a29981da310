#pragma once
// PartitionManager: the partition replicas hosted by this broker, and the
// Kafka handlers' Backend (kafka/server_backend.h).
//
// It owns one PartitionLog per local replica under <data-dir>/logs/
// (<topic>-<partition>, Kafka's layout), one GroupCommitter for the node, the
// high watermark of each partition, and the parked requests (long-poll
// Fetches, admin requests waiting for metadata).
//
// Reconciliation (Redpanda's controller_backend shape): on every MetadataView
// change it brings local logs in line with the image, one partition at a
// time and idempotently: open (and recover) logs for partitions whose
// replicas include this broker, record leader epochs when it becomes leader,
// and delete the logs of deleted topics (renamed to "<dir>.<n>-delete" on the
// loop, removed on a background thread).
//
// Replication (Kafka's model, DESIGN.md §4; details in
// partition_manager_replication.cpp):
//   - Leader: tracks each follower's fetch offset (a follower reports only
//     what it holds durably), computes the high watermark as the minimum over
//     the ISR (plus pending additions, KIP-497's maximal ISR) of those offsets
//     and its own durable log end, answers acks=all once the high watermark
//     passes the batch, and shrinks/expands the ISR through AlterPartition
//     requests to the controllers (replica.lag.time.max.ms).
//   - Follower: one ReplicaFetcher per leader broker; after a leader change
//     a partition first asks OffsetForLeaderEpoch and truncates its divergent
//     tail, then fetches, appends the leader's batches verbatim, waits for the
//     group commit and only then fetches again (which reports the offset).
//
// Threads: everything runs on the event loop, except the GroupCommitter's
// flusher and the background worker (retention, checkpoints, deletions),
// which only touch PartitionLogs (thread-safe) and the file system.

#include <asio.hpp>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "broker/backend.h"
#include "broker/controller_client.h"
#include "broker/metadata_view.h"
#include "broker/producer_ids.h"
#include "broker/producer_state.h"
#include "broker/replica_fetcher.h"
#include "broker/txn_index.h"
#include "common/metrics.h"
#include "common/options.h"
#include "common/serial_worker.h"
#include "store/file_env.h"
#include "store/group_commit.h"
#include "store/partition_log.h"

namespace dmq::broker {

class PartitionManager : public Backend {
 public:
  // `options`, `view` and `env` must outlive the manager.
  PartitionManager(asio::io_context& io, const Options& options, MetadataView& view,
                   ControllerClient& controller, store::FileEnv& env = store::posix_file_env());
  ~PartitionManager() override;

  // Creates <data-dir>/logs, opens the local replicas of the current image,
  // subscribes to metadata changes and starts housekeeping (retention,
  // checkpoints). "" or a one-line reason.
  std::string start() override;
  // Drops parked waiters, serves the queued group commits, flushes and
  // checkpoints every log. Idempotent.
  void stop() override;

  size_t partition_count() const;
  // How often retention and checkpoints run (tests shorten it).
  void set_housekeeping_interval(std::chrono::milliseconds interval) { housekeeping_ = interval; }
  // Where group-commit completions go to reach the loop (default: posted to
  // it). Tests hold them to replay a completion after a chosen change; the
  // executor must run them on the loop thread.
  void set_completion_executor(store::GroupCommitter::Executor executor) {
    completion_executor_ = std::move(executor);
  }

  // Backend
  BrokerId node_id() const override { return BrokerId(options_.node_id); }
  Image metadata() const override { return view_.current(); }
  void wait_for_metadata(std::function<bool(const cluster::MetadataImage&)> holds,
                         std::chrono::milliseconds timeout,
                         std::function<void(bool)> done) override;
  ProduceTarget produce_target(std::string_view topic, PartitionId partition,
                               Acks acks) const override;
  void produce(std::string_view topic, PartitionId partition, const ValidatedBatch& batch,
               Acks acks, std::function<void(const ProduceResult&)> done) override;
  FetchRead fetch(std::string_view topic, PartitionId partition, Offset offset, uint32_t max_bytes,
                  BrokerId replica_id, LeaderEpoch current_leader_epoch) override;
  FetchRead fetch_committed(std::string_view topic, PartitionId partition, Offset offset,
                            uint32_t max_bytes, LeaderEpoch current_leader_epoch) override;
  void produce_transactional(std::string_view topic, PartitionId partition,
                             const ValidatedBatch& batch, Acks acks,
                             std::string_view transactional_id,
                             std::function<void(const ProduceResult&)> done) override;
  void append_txn_offsets(std::string_view topic, PartitionId partition,
                          const ValidatedBatch& batch, std::string_view transactional_id,
                          std::function<void(const ProduceResult&)> done) override;
  void write_txn_marker(std::string_view topic, PartitionId partition, int64_t producer_id,
                        int16_t producer_epoch, bool commit, int32_t coordinator_epoch,
                        std::function<void(ErrorCode)> done) override;
  void set_txn_verifier(TxnVerifier verifier) override { txn_verifier_ = std::move(verifier); }
  void park(const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout,
            BrokerId replica_id, std::function<void()> wake) override;
  OffsetLookup delete_records(std::string_view topic, PartitionId partition,
                              int64_t offset) override;
  OffsetLookup list_offset(std::string_view topic, PartitionId partition,
                           int64_t timestamp) override;
  std::optional<std::pair<Offset, Offset>> replica_offsets(std::string_view topic,
                                                           PartitionId partition) const override {
    Partition* p = find(topic, partition.value);
    if (!p || !p->log) return std::nullopt;
    return std::make_pair(p->log->log_start_offset(), p->high_watermark);
  }
  void init_producer_id(std::function<void(const ProducerIdResult&)> done) override {
    producer_ids_.init_producer_id(std::move(done));
  }
  EpochEndOffset end_offset_for_epoch(std::string_view topic, PartitionId partition,
                                      LeaderEpoch current_leader_epoch,
                                      LeaderEpoch leader_epoch) override;
  std::chrono::steady_clock::time_point replica_answer_by(
      BrokerId replica, std::chrono::steady_clock::time_point received) override;

 private:
  struct Waiter {
    explicit Waiter(asio::io_context& io) : timer(io) {}
    std::function<void()> wake;
    int32_t replica = -1;  // a follower's parked fetch: its broker id
    std::function<bool(const cluster::MetadataImage&)> holds;  // metadata waiters only
    std::function<void(bool)> done;                            // metadata waiters only
    asio::steady_timer timer;
    bool fired = false;
  };
  using WaiterPtr = std::shared_ptr<Waiter>;
  // What the leader knows of one follower replica (Kafka's Replica).
  struct FollowerProgress {
    int64_t log_end = -1;  // its last fetch offset; -1 until it fetched from this leader
    int64_t last_fetch_ms = 0;
    int64_t leader_end_at_last_fetch = -1;
    int64_t last_caught_up_ms = 0;
  };
  // A follower partition's fetch state.
  enum class Follow { kNone, kTruncating, kFetching };
  // What an asynchronous completion was started for (STYLE.md rule 11). A
  // completion acts only while the partition still matches it; otherwise it
  // is a no-op (or answers its requester with an error).
  struct Stamp {
    uint64_t incarnation = 0;  // the Partition object: a re-created topic gets a new one
    uint64_t truncations = 0;  // truncations of its log: bytes below the log end were replaced
    int32_t leader_epoch = -1;
    // The log's bytes are the ones the completion was started for.
    bool same_log(const Stamp& o) const {
      return incarnation == o.incarnation && truncations == o.truncations;
    }
    bool operator==(const Stamp&) const = default;
  };
  // A request sent to a leader (OffsetForLeaderEpoch or Fetch), awaiting its answer.
  struct InFlight {
    int32_t source = -1;
    Stamp stamp;
    int32_t asked_epoch = -1;  // OffsetForLeaderEpoch: the epoch whose end was asked
  };
  // Read by every Produce: parsed from the topic's configs when the metadata
  // changes, not per request.
  struct ProduceConfig {
    int64_t min_insync = 1;               // min.insync.replicas
    int64_t max_message_bytes = 1048588;  // max.message.bytes
    bool log_append_time = false;         // message.timestamp.type=LogAppendTime
    bool compacted = false;               // cleanup.policy has compact: records need keys
  };
  struct Partition {
    std::string topic;
    std::string topic_id;
    int32_t index = 0;
    std::string dir;
    std::shared_ptr<store::PartitionLog> log;
    store::Offset high_watermark;
    int32_t leader_epoch = -1;
    bool is_leader = false;
    std::vector<std::weak_ptr<Waiter>> waiters;          // consumers: woken by the HW
    std::vector<std::weak_ptr<Waiter>> replica_waiters;  // followers: woken by appends
    // From the metadata image (or a newer AlterPartition answer).
    int32_t leader_id = -1;
    int32_t partition_epoch = -1;
    std::vector<int32_t> replicas;
    std::vector<int32_t> isr;
    // Leader side.
    store::Offset local_durable;     // this replica's durable log end
    ProduceConfig produce_config;    // the topic's configs the produce path reads
    int64_t epoch_start_offset = 0;  // log end when this leadership began
    std::map<int32_t, FollowerProgress> followers;
    // acks=all, answered by the high watermark of the leadership they were
    // accepted under: every leadership change or truncation fails them.
    std::multimap<int64_t, std::function<void(kafka::ErrorCode)>> ack_waiters;
    bool alter_in_flight = false;
    std::vector<int32_t> proposed_isr;  // the ISR asked for while alter_in_flight
    ProducerStateTable producers;       // idempotent producers (leader and followers)
    TxnIndex txns;                      // open and aborted transactions, the LSO
    // Follower side.
    Follow follow = Follow::kNone;
    int32_t fetch_source = -1;
    std::optional<InFlight> epoch_query;  // OffsetForLeaderEpoch in flight
    std::optional<InFlight> fetch;        // Fetch in flight (its answer appends)
    int64_t retry_after_ms = 0;           // steady clock; backoff after an error
    metrics::Gauge* log_end_gauge = nullptr;
    uint64_t incarnation = 0;  // unique per Partition object of this manager
    // Bumped by every truncation and by the topic's deletion: background work
    // queued before either skips the log (it runs off the loop, so it reads
    // this instead of the Stamp).
    std::shared_ptr<std::atomic<uint64_t>> changes = std::make_shared<std::atomic<uint64_t>>(0);
    uint64_t truncations = 0;
    Stamp stamp() const { return {incarnation, truncations, leader_epoch}; }
  };
  using DurableDone = std::function<void(Partition* still, const store::LogStatus& status)>;

  Partition* find(std::string_view topic, int32_t partition) const;
  ProduceConfig produce_config(const cluster::TopicState& topic) const;
  ErrorCode check_leader(std::string_view topic, int32_t partition) const;
  // The steps of produce(): stamp the batch for this leadership, admit it by
  // its producer's sequence, append it, answer it when acks say so.
  static kafka::ErrorCode check_keys(std::span<const char> bytes);
  static int64_t stamp_batch(const Partition& p, std::span<char> bytes, kafka::BatchHeader& header,
                             int64_t now);
  // `sequenced`: the batch's producer sequence is checked (client batches);
  // a coordinator's own transactional batches are not.
  void append_admitted(Partition& p, const ValidatedBatch& batch, Acks acks,
                       std::function<void(const ProduceResult&)> done, bool sequenced = true);
  // Transactional batches (partition_manager_txn.cpp).
  ErrorCode check_txn_batch(const Partition& p, const kafka::BatchHeader& header) const;
  void admit_transactional(std::string_view topic, PartitionId partition,
                           const ValidatedBatch& batch, Acks acks,
                           std::string_view transactional_id, bool sequenced,
                           std::function<void(const ProduceResult&)> done);
  FetchRead read(std::string_view topic, PartitionId partition, Offset offset, uint32_t max_bytes,
                 BrokerId replica_id, LeaderEpoch current_leader_epoch, bool read_committed);
  bool admit_idempotent(Partition& p, const BatchIdentity& identity, int64_t append_time,
                        std::function<void(const ProduceResult&)>& done);
  store::LogResult<store::AppendInfo> append_to_log(Partition& p, std::span<char> bytes,
                                                    const kafka::BatchHeader& header, int64_t now);
  void await_acknowledgement(Partition& p, const store::AppendInfo& info, int64_t append_time,
                             Acks acks, bool timed, std::function<void(const ProduceResult&)> done);
  void handle_metadata_change(const Image& previous, const Image& next);
  void reconcile(const cluster::MetadataImage& image);
  void maybe_open(const cluster::MetadataImage& image, const cluster::TopicState& topic,
                  const cluster::PartitionState& state);
  static kafka::ErrorCode leader_epoch_error(const Partition& p, int32_t current_leader_epoch);
  void remove_topic(const std::string& topic);
  void advance_high_watermark(Partition& p, store::Offset offset);
  void wake_waiters(Partition& p);
  void wake_replica_waiters(Partition& p);
  // Every parked fetch of follower `replica`, whatever partitions it names.
  void wake_fetches_of(int32_t replica);
  void fail_ack_waiters(Partition& p, kafka::ErrorCode error);
  void note_local_durable(Partition& p, store::Offset durable_end);
  void make_durable(Partition& p, store::Offset end, DurableDone done);
  void sync_recovered_tail(Partition& p);
  void answer_duplicate(Partition& p, const SequenceCheck& original, int64_t append_time,
                        std::function<void(const ProduceResult&)> done);

  friend struct PartitionManagerProbe;  // tests/unit/broker_durability_test.cpp

  // Replication (partition_manager_replication.cpp).
  void update_replication_role(Partition& p, const cluster::PartitionState& state,
                               int32_t leader_id, bool leader_changed);
  bool serving_in(const cluster::MetadataImage& image) const;
  void become_leader(Partition& p);
  // Records p's followers in new_followers_ and wakes their parked fetches.
  void note_new_followers(const Partition& p);
  void become_follower(Partition& p);
  void record_follower_fetch(Partition& p, int32_t replica, int64_t offset);
  void maybe_advance_leader_high_watermark(Partition& p);
  std::vector<int32_t> maximal_isr(const Partition& p) const;
  void schedule_isr_check();
  void check_isr(int64_t now_ms);
  void maybe_change_isr(Partition& p, std::vector<int32_t> new_isr, bool shrink);
  void handle_alter_result(const std::string& topic, int32_t partition, const Stamp& asked_for,
                           std::vector<int32_t> proposed, const AdminResult& result, bool shrink);
  ReplicaFetcher& fetcher_for(int32_t source);
  void stop_idle_fetchers();
  kafka::OffsetForLeaderEpochRequest build_epoch_queries(int32_t source);
  void handle_epoch_answers(int32_t source, const kafka::OffsetForLeaderEpochResponse& resp);
  kafka::FetchRequest build_replica_fetch(int32_t source);
  void handle_replica_fetch(int32_t source, kafka::FetchResponse& resp, std::function<void()> next);
  bool follower_append(Partition& p, const kafka::FetchResponse::Partition& data);
  void truncate_follower(Partition& p, store::Offset target);
  void after_truncation(Partition& p);
  Partition* answer_target(const std::string& topic, int32_t index, int32_t source,
                           std::optional<InFlight> Partition::*slot, InFlight* sent);
  void update_replication_metrics();
  void fire(const WaiterPtr& w);
  void check_metadata_waiters(const cluster::MetadataImage& image);
  void schedule_housekeeping();
  void run_housekeeping();
  store::PartitionLogConfig log_config(const cluster::TopicState& topic) const;
  void set_high_watermark(Partition& p, store::Offset offset);
  std::string logs_dir() const { return options_.data_dir + "/logs"; }

  asio::io_context& io_;
  const Options& options_;
  MetadataView& view_;
  ControllerClient& controller_;
  store::FileEnv& env_;
  store::GroupCommitter committer_;
  SerialWorker background_;
  store::LogCleaner cleaner_;  // compacted logs, on its own thread
  asio::steady_timer housekeeping_timer_;
  std::chrono::milliseconds housekeeping_{std::chrono::seconds(30)};
  // topic -> partition -> replica; std::less<> so string_views look up.
  std::map<std::string, std::map<int32_t, std::unique_ptr<Partition>>, std::less<>> partitions_;
  std::set<WaiterPtr> waiters_;  // parked fetches
  // Followers of partitions this broker became leader of lately, with the
  // partitions they have not fetched yet (see replica_answer_by).
  struct NewFollower {
    std::chrono::steady_clock::time_point assigned_at;
    std::set<std::pair<std::string, int32_t>> unfetched;
  };
  std::map<int32_t, NewFollower> new_followers_;
  std::set<WaiterPtr> metadata_waiters_;  // admin requests waiting for the image
  std::map<int32_t, std::shared_ptr<ReplicaFetcher>> fetchers_;  // by source broker
  asio::steady_timer isr_timer_;
  ProducerIdAllocator producer_ids_;
  TxnVerifier txn_verifier_;
  uint64_t delete_counter_ = 0;
  uint64_t incarnations_ = 0;
  store::GroupCommitter::Executor completion_executor_;
  bool started_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  metrics::Gauge& partitions_gauge_;
  metrics::Histogram& commit_seconds_;
  metrics::Gauge& under_replicated_gauge_;
  metrics::Gauge& leader_partitions_gauge_;
  metrics::Counter& isr_shrinks_;
  metrics::Counter& isr_expands_;
};

}  // namespace dmq::broker
