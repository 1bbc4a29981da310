#pragma once
// The transaction coordinator of one broker (KIP-98): the I/O around the
// pure state machine in txn_state.h. It owns the transactional ids whose
// __transaction_state partition this broker leads, loads such a partition
// when it becomes its leader (COORDINATOR_LOAD_IN_PROGRESS meanwhile, the
// group coordinator's load machinery in group/internal_topic.h), writes
// every transition with acks=all before answering, writes COMMIT/ABORT
// markers to the transaction's partitions, aborts transactions past their
// timeout, and answers the partition leaders' KIP-890 verification.
//
//   txn::Coordinator txns(loop.context(), options, kafka.backend(), view, groups);
//   txns.register_handlers(kafka);  // InitProducerId (transactional), AddPartitionsToTxn, ...
//   txns.start();
//   loop.on_shutdown([&] { txns.stop(); });
//
// Errors to clients are Kafka's: NOT_COORDINATOR for an id whose partition
// this broker does not lead, COORDINATOR_LOAD_IN_PROGRESS while it loads,
// CONCURRENT_TRANSACTIONS while a transition is being written or markers are
// being written, PRODUCER_FENCED for an older epoch.
//
// Other brokers are reached through txn::Peers (markers to the partitions
// they lead, verification with the coordinator of another id).
//
// Ownership: `options`, `backend`, `view` and `groups` must outlive it.
// Threads: everything runs on the event-loop thread.

#include <cstddef>

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/backend.h"
#include "broker/metadata_view.h"
#include "common/options.h"
#include "group/coordinator.h"
#include "kafka/server/handlers.h"
#include "txn/peers.h"
#include "txn/txn_state.h"

namespace dmq::kafka {
class Service;
}  // namespace dmq::kafka

namespace dmq::txn {

// What DescribeTransactions, ListTransactions and GET /v1/transactions show.
struct TxnView {
  std::string transactional_id;
  TxnMetadata meta;
  int32_t state_partition = -1;
};

class Coordinator {
 public:
  Coordinator(asio::io_context& io, const Options& options, broker::Backend& backend,
              broker::MetadataView& view, group::Coordinator& groups);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  void register_handlers(kafka::Service& service);
  // Subscribes to metadata changes, installs the partition leaders'
  // verifier, starts the timeout timer.
  void start();
  void stop();

  // The transactions this broker coordinates (loop thread).
  std::vector<TxnView> list() const;

  // How to reach other brokers (null: partitions and coordinators on this
  // broker only). Set before start(); must outlive the coordinator.
  void set_peers(Peers* peers) { peers_ = peers; }
  // What the node-to-node endpoints call on this broker: write a marker to
  // a partition led here (and complete its TxnOffsetCommit offsets), and
  // verify a partition for a transactional id coordinated here.
  void write_marker_here(const MarkerWrite& marker, std::function<void(kafka::ErrorCode)> done);
  void verify_here(const broker::TxnVerification& v, std::function<void(kafka::ErrorCode)> done);

 private:
  struct Entry {
    TxnMetadata meta;
    int32_t partition = -1;
    bool busy = false;  // a write to __transaction_state or markers in flight
    // AddPartitions requests that arrived while busy: run when it is not.
    std::vector<std::function<void()>> idle_waiters;
  };
  struct Slot {
    bool loaded = false;
    int32_t leader_epoch = -1;
    uint64_t load_id = 0;
  };
  using Done = std::function<void(kafka::ErrorCode)>;
  static constexpr int kParkMs = 2000;

  // ---- handlers ----
  void handle_init_producer_id(const kafka::ExchangePtr& ex);
  void handle_add_partitions(const kafka::ExchangePtr& ex);
  void handle_add_offsets(const kafka::ExchangePtr& ex);
  void handle_end_txn(const kafka::ExchangePtr& ex);
  void handle_write_markers(const kafka::ExchangePtr& ex);
  void handle_describe(const kafka::ExchangePtr& ex);
  void handle_list(const kafka::ExchangePtr& ex);
  void verify(const broker::TxnVerification& v, Done done);
  // Adds `partitions` to `id`'s transaction; the answer's error.
  void add_partitions(const std::string& id, int64_t producer_id, int16_t epoch,
                      std::vector<TopicPartition> partitions, Done done);
  void finish_init(const std::string& id, TxnMetadata next, bool new_id,
                   const kafka::ExchangePtr& ex);

  // ---- state ----
  int32_t state_partitions() const;
  // kNone and the partition when this broker serves `id` now.
  kafka::ErrorCode check_coordinator(std::string_view id, int32_t* partition) const;
  Entry* find(std::string_view id);
  void persist(const std::string& id, int32_t partition, TxnMetadata next, Done done);
  int64_t now_ms() const;

  // ---- markers ----
  void write_markers(const std::string& id);
  void write_marker(const std::string& id, const TopicPartition& tp, TxnMetadata meta,
                    std::shared_ptr<size_t> left);
  // The leader of a partition (-1: none), from the current image.
  int32_t leader_of(const std::string& topic, int32_t partition) const;
  void abort_by_coordinator(const std::string& id, bool bump_epoch);

  // ---- loading ----
  void handle_metadata_change(const cluster::MetadataImage& image);
  void begin_load(int32_t partition, int32_t leader_epoch);
  void read_step(int32_t partition, uint64_t load_id, std::shared_ptr<int64_t> next, int64_t end,
                 std::shared_ptr<std::map<std::string, std::optional<TxnMetadata>>> seen);
  void finish_load(int32_t partition,
                   const std::map<std::string, std::optional<TxnMetadata>>& seen);
  bool load_current(int32_t partition, uint64_t load_id) const;

  void schedule_tick();
  void on_tick();

  asio::io_context& io_;
  const Options& options_;
  broker::Backend& backend_;
  broker::MetadataView& view_;
  group::Coordinator& groups_;
  Peers* peers_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  asio::steady_timer tick_timer_;
  bool stopped_ = false;
  std::map<int32_t, Slot> slots_;
  std::map<std::string, Entry, std::less<>> txns_;
  uint64_t next_load_id_ = 1;
};

}  // namespace dmq::txn
