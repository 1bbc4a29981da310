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
// High watermark: without followers (replication is a later step) it is the
// log end offset once the group commit made the data durable (or right after
// the write with log.flush.on.ack=false). This is the seam where the ISR
// minimum will go: consumers read only below it, acks wait for it.
//
// Threads: everything runs on the event loop, except the GroupCommitter's
// flusher and the background worker (retention, checkpoints, deletions),
// which only touch PartitionLogs (thread-safe) and the file system.

#include <asio.hpp>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "broker/metadata_view.h"
#include "common/metrics.h"
#include "common/options.h"
#include "common/serial_worker.h"
#include "kafka/server_backend.h"
#include "store/file_env.h"
#include "store/group_commit.h"
#include "store/partition_log.h"

namespace dmq::broker {

class PartitionManager : public kafka::Backend {
 public:
  // `options`, `view` and `env` must outlive the manager.
  PartitionManager(asio::io_context& io, const Options& options, MetadataView& view,
                   store::FileEnv& env = store::posix_file_env());
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

  // kafka::Backend
  int32_t node_id() const override { return options_.node_id; }
  Image metadata() const override { return view_.current(); }
  void wait_for_metadata(std::function<bool(const cluster::MetadataImage&)> holds,
                         std::chrono::milliseconds timeout,
                         std::function<void(bool)> done) override;
  kafka::ErrorCode check_leader(std::string_view topic, int32_t partition) const override;
  void produce(std::string_view topic, int32_t partition, std::span<char> batch, int16_t acks,
               std::function<void(const kafka::ProduceResult&)> done) override;
  kafka::FetchRead fetch(std::string_view topic, int32_t partition, int64_t offset,
                         uint32_t max_bytes, int32_t replica_id,
                         int32_t current_leader_epoch) override;
  void park(const std::vector<kafka::TopicPartition>& partitions, std::chrono::milliseconds timeout,
            std::function<void()> wake) override;
  kafka::OffsetLookup list_offset(std::string_view topic, int32_t partition,
                                  int64_t timestamp) override;

 private:
  struct Waiter {
    explicit Waiter(asio::io_context& io) : timer(io) {}
    std::function<void()> wake;
    std::function<bool(const cluster::MetadataImage&)> holds;  // metadata waiters only
    std::function<void(bool)> done;                            // metadata waiters only
    asio::steady_timer timer;
    bool fired = false;
  };
  using WaiterPtr = std::shared_ptr<Waiter>;
  struct Partition {
    std::string topic;
    std::string topic_id;
    int32_t index = 0;
    std::string dir;
    std::shared_ptr<store::PartitionLog> log;
    store::Offset high_watermark;
    int32_t leader_epoch = -1;
    bool is_leader = false;
    std::vector<std::weak_ptr<Waiter>> waiters;
    metrics::Gauge* log_end_gauge = nullptr;
    // Set when the topic is deleted, so queued background work skips the log.
    std::shared_ptr<std::atomic<bool>> removed = std::make_shared<std::atomic<bool>>(false);
  };

  Partition* find(std::string_view topic, int32_t partition) const;
  void handle_metadata_change(const Image& previous, const Image& next);
  void reconcile(const cluster::MetadataImage& image);
  void maybe_open(const cluster::TopicState& topic, const cluster::PartitionState& state);
  void remove_topic(const std::string& topic);
  void advance_high_watermark(Partition& p, store::Offset offset);
  void wake_waiters(Partition& p);
  void fire(const WaiterPtr& w);
  void check_metadata_waiters(const cluster::MetadataImage& image);
  void schedule_housekeeping();
  void run_housekeeping();
  store::PartitionLogConfig log_config(const cluster::TopicState& topic) const;
  std::string logs_dir() const { return options_.data_dir + "/logs"; }

  asio::io_context& io_;
  const Options& options_;
  MetadataView& view_;
  store::FileEnv& env_;
  store::GroupCommitter committer_;
  SerialWorker background_;
  asio::steady_timer housekeeping_timer_;
  std::chrono::milliseconds housekeeping_{std::chrono::seconds(30)};
  // topic -> partition -> replica; std::less<> so string_views look up.
  std::map<std::string, std::map<int32_t, std::unique_ptr<Partition>>, std::less<>> partitions_;
  std::set<WaiterPtr> waiters_;           // parked fetches
  std::set<WaiterPtr> metadata_waiters_;  // admin requests waiting for the image
  uint64_t delete_counter_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  metrics::Gauge& partitions_gauge_;
  metrics::Histogram& commit_seconds_;
};

}  // namespace dmq::broker
