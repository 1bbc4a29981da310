#pragma once
// The group coordinator of one broker: the I/O around the pure Group state
// machines (group.h). It serves the eleven group APIs over Kafka, owns the
// groups whose __consumer_offsets partition this broker leads, loads such a
// partition when it becomes the leader and writes group metadata and offset
// commits into it with acks=-1 (DESIGN.md §4).
//
//   group::Coordinator groups(loop.context(), options, kafka.backend(), view, controller);
//   groups.register_handlers(kafka);  // FindCoordinator, JoinGroup, ... OffsetDelete
//   groups.start();
//   loop.on_shutdown([&] { groups.stop(); });
//
// Errors to clients are Kafka's: NOT_COORDINATOR for a group whose partition
// this broker does not lead, COORDINATOR_LOAD_IN_PROGRESS while it loads,
// COORDINATOR_NOT_AVAILABLE while __consumer_offsets does not exist yet (it is
// created through the controller on the first FindCoordinator).
//
// Ownership: `options`, `backend`, `view` and `controller` must outlive it.
// Threads: everything runs on the event-loop thread (constructor, start, stop,
// handlers, the views for REST: call those through EventLoop::call).

// A libstdc++ header first: asio decides between aligned_alloc and operator
// new from _GLIBCXX_HAVE_ALIGNED_ALLOC, and translation units that disagree
// free with the wrong function (found by ASan).
#include <cstddef>

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "broker/backend.h"
#include "broker/controller_client.h"
#include "broker/metadata_view.h"
#include "common/options.h"
#include "group/group.h"
#include "group/records.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
class Service;
}  // namespace dmq::kafka

namespace dmq::metrics {
class Counter;
class Gauge;
}  // namespace dmq::metrics

namespace dmq::group {

struct LoadState;  // coordinator_internal.h

// What GET /v1/groups lists for a group.
struct GroupListing {
  std::string group_id;
  std::string state;
  std::string protocol_type;
  size_t members = 0;
};

struct PartitionLag {
  TopicPartition tp;
  CommittedOffset committed;
  std::optional<int64_t> high_watermark;  // nullopt: the partition is not hosted here
  std::optional<int64_t> lag;
};

struct MemberAssignment {
  MemberView member;
  std::vector<TopicPartition> assigned;  // decoded ConsumerProtocolAssignment, if "consumer"
};

// What GET /v1/groups/{id} shows.
struct GroupDetail {
  std::string group_id;
  int32_t coordinator = -1;
  int32_t offsets_partition = -1;
  std::string state;
  std::string protocol_type;
  std::string protocol;
  int32_t generation_id = -1;
  std::string leader;
  std::vector<MemberAssignment> members;
  std::vector<PartitionLag> offsets;
};

class Coordinator {
 public:
  Coordinator(asio::io_context& io, const Options& options, broker::Backend& backend,
              broker::MetadataView& view, broker::ControllerClient& controller);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Registers handle() for the eleven group APIs with the Kafka service.
  void register_handlers(kafka::Service& service);
  // Serves one decoded group request (what the registered handlers call);
  // answers through ex->respond, possibly later.
  void handle(const kafka::ExchangePtr& ex);
  // Subscribes to metadata changes and starts the timers.
  void start();
  // Answers parked requests with NOT_COORDINATOR and stops the timers. Idempotent.
  void stop();

  // A transaction's marker was written to __consumer_offsets partition
  // `partition` (led here): the offsets producer `producer_id` committed
  // there through TxnOffsetCommit (already in the log, before the marker)
  // become the groups' committed offsets (commit) or are dropped (abort).
  void complete_txn_offsets(int64_t producer_id, bool commit, int32_t partition,
                            std::function<void(kafka::ErrorCode)> done);

  // ---- views for REST and tests (loop thread) ----
  // Where group `id` lives: the __consumer_offsets partition and its leader
  // (-1 when the topic or the leader is missing).
  std::pair<int32_t, int32_t> locate(const std::string& id) const;
  // The same for the transactional id `id` in __transaction_state (the
  // transaction coordinator's partition is found with the same hash).
  std::pair<int32_t, int32_t> locate_in(std::string_view topic, const std::string& id) const;
  std::vector<GroupListing> list_groups() const;
  std::optional<GroupDetail> describe(const std::string& id) const;
  // "", "loading" or "not_coordinator" for group `id` on this broker.
  std::string status_of(const std::string& id) const;

 private:
  struct Entry {
    std::unique_ptr<Group> group;
    int32_t partition = -1;
    uint64_t rebalances_seen = 0;
  };
  enum class SlotStatus { kLoading, kActive };
  struct Slot {
    SlotStatus status = SlotStatus::kLoading;
    int32_t leader_epoch = -1;
    uint64_t load_id = 0;
  };
  struct Parked {
    kafka::ExchangePtr exchange;
  };
  static constexpr int kTickMs = 50;

  // ---- handlers (one per API) ----
  void handle_find_coordinator(const kafka::ExchangePtr& ex);
  void handle_join(const kafka::ExchangePtr& ex);
  void handle_sync(const kafka::ExchangePtr& ex);
  void handle_heartbeat(const kafka::ExchangePtr& ex);
  void handle_leave(const kafka::ExchangePtr& ex);
  void handle_offset_commit(const kafka::ExchangePtr& ex);
  void handle_offset_fetch(const kafka::ExchangePtr& ex);
  void handle_list_groups(const kafka::ExchangePtr& ex);
  void handle_describe_groups(const kafka::ExchangePtr& ex);
  void handle_delete_groups(const kafka::ExchangePtr& ex);
  void handle_offset_delete(const kafka::ExchangePtr& ex);
  void handle_txn_offset_commit(const kafka::ExchangePtr& ex);  // coordinator_txn.cpp
  void store_txn_offsets(const kafka::ExchangePtr& ex,
                         std::shared_ptr<kafka::TxnOffsetCommitResponse> resp, int32_t partition,
                         TxnOffsets accepted);
  static kafka::ErrorCode txn_offsets_error(kafka::ErrorCode e);
  void apply_txn_offsets(int32_t partition, const TxnOffsets& offsets);
  bool has_pending_txn_offset(const std::string& group_id, const TopicPartition& tp) const;
  void mark_unstable(const std::string& group_id,
                     std::vector<kafka::OffsetFetchResponse::Topic>& topics) const;
  // OffsetCommit's per-partition checks; the records and commits of the
  // partitions that passed (the others get their error in `resp`).
  void build_commits(const kafka::OffsetCommitRequest& req, int16_t version, TimeMs t,
                     kafka::OffsetCommitResponse& resp,
                     std::vector<std::pair<std::string, std::optional<std::string>>>& records,
                     std::vector<std::pair<TopicPartition, CommittedOffset>>& commits);

  // ---- groups ----
  int32_t offsets_partitions() const;  // of the topic in the image; 0 if absent
  // kNone and the partition when this broker may serve `group_id` now.
  Error check_group(std::string_view group_id, int32_t* partition = nullptr) const;
  Entry* find(std::string_view group_id);
  const Entry* find(std::string_view group_id) const;
  Entry& create(const std::string& group_id, int32_t partition);
  GroupConfig group_config() const;
  // Delivers the replies a Group produced (plus an immediate answer), after
  // persisting its metadata when the call made it dirty.
  void after_group_op(Entry& entry, std::vector<Reply> extra = {});
  void deliver(std::vector<Reply> replies, Error override_error);
  void deliver_join(const kafka::ExchangePtr& ex, const JoinAnswer& answer);
  void deliver_sync(const kafka::ExchangePtr& ex, const SyncAnswer& answer);
  Token park(const kafka::ExchangePtr& ex);
  // Join and Sync: parks the request, runs `op` (a Group call that may answer
  // at once or later, through the token), then delivers what it produced.
  template <class Op>
  void run_parked(Entry& entry, const kafka::ExchangePtr& ex, Op op) {
    Token token = park(ex);
    std::vector<Reply> now_answers;
    if (auto answer = op(token)) now_answers.push_back(Reply{token, std::move(*answer)});
    after_group_op(entry, std::move(now_answers));
  }
  TimeMs now() const;

  // ---- persistence ----
  using Record = std::pair<std::string, std::optional<std::string>>;  // key, value|tombstone
  using Appended = std::function<void(Error, int64_t base_offset)>;
  using Written = std::function<void(Error)>;
  // Appends records to offsets partition `partition` with acks=-1; `done`
  // gets kNone once they are acknowledged (replicated to the ISR).
  void append(int32_t partition, const std::vector<Record>& records, Appended done);
  void persist_group(Entry& entry, Written done);

  // ---- leadership and loading ----
  void handle_metadata_change(const cluster::MetadataImage& image);
  void begin_load(int32_t partition, int32_t leader_epoch);
  void write_load_marker(int32_t partition, uint64_t load_id);
  void read_step(int32_t partition, uint64_t load_id, std::shared_ptr<LoadState> state);
  void finish_load(int32_t partition, LoadState& state);
  void unload(int32_t partition);
  bool load_current(int32_t partition, uint64_t load_id) const;
  void retry_later(std::function<void()> fn, std::chrono::milliseconds delay);
  void maybe_create_offsets_topic();
  // Creates a compacted internal topic (__consumer_offsets, __transaction_state)
  // through the controllers, once at a time per name.
  void maybe_create_internal_topic(const std::string& name, int32_t partitions,
                                   int16_t replication_factor);
  // The high watermark of a partition with a replica on this broker.
  std::optional<int64_t> high_watermark(const TopicPartition& tp) const;

  // ---- timers ----
  void schedule_tick();
  void on_tick();
  void maybe_expire_offsets();
  void update_gauges();

  asio::io_context& io_;
  const Options& options_;
  broker::Backend& backend_;
  broker::MetadataView& view_;
  broker::ControllerClient& controller_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  asio::steady_timer tick_timer_;
  bool started_ = false;
  bool stopped_ = false;
  std::set<std::string> creating_topics_;
  int64_t last_expiry_check_ms_ = 0;
  mutable std::mt19937_64 rng_;  // member ids; not security-relevant

  std::map<int32_t, Slot> slots_;  // offsets partitions this broker leads
  std::map<std::string, Entry, std::less<>> groups_;
  std::map<Token, Parked> parked_;
  // TxnOffsetCommit offsets awaiting their transaction's marker, by
  // (producer id, __consumer_offsets partition). They are in the log as the
  // producer's transactional batches, so a coordinator that loads the
  // partition rebuilds them (LoadState::pending_txn).
  std::map<std::pair<int64_t, int32_t>, TxnOffsets> pending_txn_offsets_;
  Token next_token_ = 1;
  uint64_t next_load_id_ = 1;
  uint64_t ticks_ = 0;

  metrics::Counter* rebalances_total_;
  metrics::Counter* commits_total_;
  metrics::Counter* loads_total_;
  std::map<GroupState, metrics::Gauge*> state_gauges_;
  metrics::Gauge* loading_gauge_;
  std::map<std::string, metrics::Gauge*> lag_gauges_;
};

}  // namespace dmq::group
