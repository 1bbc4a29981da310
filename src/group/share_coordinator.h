#pragma once
// The share-group coordinator of one broker (KIP-932 semantics over REST):
// the I/O around the pure SharePartition state machines (share_partition.h).
//
// The coordinator of share group G is the leader of partition
// partition_for(G, N) of the internal topic __share_group_state (created like
// __consumer_offsets, on first use). It keeps every share-partition of G
// (start offset; for in-flight records their state, delivery count, lock
// holder and deadline) and writes its whole snapshot into that partition
// with acks=-1 before it answers a fetch or an acknowledgement, so what was
// answered survives the loss of the coordinator; a broker that becomes the
// leader loads the partition first (503 coordinator_load_in_progress
// meanwhile), locks included, so a member can still acknowledge what it held.
//
// Dead letters are written exactly once per failed record, also across a
// failover: the failure is first persisted as an intent (state
// DEAD_LETTERING with a fixed producer sequence), then the record is
// appended to the dead-letter topic as an idempotent batch of the
// share-partition's own producer id; after a failover the new coordinator
// re-sends the same (producer id, sequence) and the dead-letter partition's
// producer state answers a duplicate with the first write's offset.
//
//   group::ShareCoordinator shares(loop.context(), options, kafka.backend(), io, view, controller);
//   shares.start();
//   loop.on_shutdown([&] { shares.stop(); });
//
// Ownership: every reference must outlive it. Threads: everything on the
// event-loop thread (callbacks too); REST reaches it through EventLoop.

#include <cstddef>  // before asio: see coordinator.h

#include <asio.hpp>
#include <cstdint>
#include <functional>
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
#include "group/share_io.h"
#include "group/share_partition.h"
#include "group/share_write_queue.h"
#include "group/types.h"

namespace dmq::metrics {
class Counter;
class Gauge;
}  // namespace dmq::metrics

namespace dmq::group {

struct ShareLoadState;  // share_coordinator_internal.h

enum class ShareError : uint8_t {
  kNone,
  kNotCoordinator,           // this broker does not lead the group's state partition
  kLoadInProgress,           // the state partition is being loaded
  kCoordinatorNotAvailable,  // __share_group_state missing or a write failed
  kInvalidRequest,           // empty group id or member id, bad values
  kUnknownTopic,
  kUnknownGroup,
  kNotDelivered,   // an ack for a record never delivered to this group
  kNotInFlight,    // an ack for a record no longer locked
  kWrongMember,    // an ack for a record locked by another member
  kNonEmptyGroup,  // a delete while members are active or dead letters pending
};
const char* share_error_name(ShareError e);

struct ShareFetchRequest {
  std::string group_id;
  std::string member_id;  // "": a new member; the answer names it
  std::vector<std::string> topics;
  size_t max_records = 500;
  int64_t wait_ms = 0;
};

struct ShareRecordOut {
  TopicPartition tp;
  int64_t offset = 0;
  int64_t timestamp_ms = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int32_t delivery_count = 0;
};

struct ShareFetchResult {
  ShareError error = ShareError::kNone;
  std::string message;
  std::string member_id;
  std::vector<ShareRecordOut> records;
};

struct ShareAckEntry {
  TopicPartition tp;
  int64_t offset = 0;
  AckType type = AckType::kAccept;
  std::string error;
};

struct ShareAckResult {
  ShareError error = ShareError::kNone;
  std::string message;
  size_t acknowledged = 0;
};

// What GET /v1/share-groups/{g} shows.
struct SharePartitionView {
  TopicPartition tp;
  int64_t start_offset = -1;  // acknowledged start offset: everything below is done
  int64_t next_offset = -1;
  size_t in_flight = 0;  // ACQUIRED
  size_t available = 0;  // waiting for (re)delivery
  size_t dead_letter_pending = 0;
  int64_t dead_lettered = 0;
};
struct ShareMemberView {
  std::string member_id;
  int64_t idle_ms = 0;
  size_t locks = 0;
};
struct ShareGroupDetail {
  std::string group_id;
  int32_t coordinator = -1;
  int32_t state_partition = -1;
  std::vector<ShareMemberView> members;
  std::vector<SharePartitionView> partitions;
};

class ShareCoordinator {
 public:
  ShareCoordinator(asio::io_context& io, const Options& options, broker::Backend& backend,
                   ShareIo& share_io, broker::MetadataView& view,
                   broker::ControllerClient& controller);
  ~ShareCoordinator();
  ShareCoordinator(const ShareCoordinator&) = delete;
  ShareCoordinator& operator=(const ShareCoordinator&) = delete;

  void start();
  void stop();  // idempotent; pending operations answer kNotCoordinator

  // Acquires up to max_records records of the topics for the member, waiting
  // up to wait_ms for some; answers once their locks are persisted.
  void fetch(ShareFetchRequest request, std::function<void(ShareFetchResult)> done);
  // Applies the acknowledgements all or none: the first one that fails its
  // check fails the call. Answers once the new state is persisted.
  void acknowledge(const std::string& group_id, const std::string& member_id,
                   std::vector<ShareAckEntry> acks, std::function<void(ShareAckResult)> done);

  // DeleteShareGroups' semantics: refused (kNonEmptyGroup) while the group
  // has members (a fetch or ack within group.share.session.timeout.ms) or
  // dead letters still to write (their exactly-once write would be lost);
  // otherwise its state is tombstoned in __share_group_state, and done(kNone)
  // once that is acknowledged. A later fetch starts the group afresh.
  void delete_group(const std::string& group_id, std::function<void(ShareError, std::string)> done);

  // ---- views (loop thread) ----
  // kNone when this broker serves `group_id` now.
  ShareError status_of(const std::string& group_id) const;
  std::optional<ShareGroupDetail> describe(const std::string& group_id) const;
  // Asks the controller to create __share_group_state if it is missing.
  void ensure_state_topic();

  // The topic's share.* configs, defaults where unset or unreadable.
  static ShareConfig config_of(const cluster::ConfigMap& configs);

 private:
  struct PartitionEntry {
    std::unique_ptr<SharePartition> sp;
    std::string dead_letter_topic;
    bool dead_letter_busy = false;  // one dead-letter write at a time (sequence order)
    // Log bytes per offset in this partition's batches, learned from reads
    // (0: not yet): how much a fetch reads for the records it wants.
    double bytes_per_offset = 0;
  };
  struct GroupEntry {
    int32_t state_partition = -1;
    std::map<std::string, int64_t> members;  // member id -> last seen (ms)
    std::map<TopicPartition, PartitionEntry> partitions;
    // Changed in memory, but their last write failed: written again by the
    // tick, so a state an error answer left behind still becomes durable.
    std::set<TopicPartition> unpersisted;
    metrics::Gauge* in_flight = nullptr;
    metrics::Counter* redeliveries = nullptr;
    metrics::Counter* dead_lettered = nullptr;
    metrics::Counter* lock_expiries = nullptr;
    metrics::Counter* acknowledged = nullptr;
  };
  enum class SlotStatus { kLoading, kActive };
  // A share-partition's state record: which snapshot a write carries.
  struct StateKey {
    std::string group_id;
    TopicPartition tp;
    friend auto operator<=>(const StateKey&, const StateKey&) = default;
  };
  using PersistDone = std::function<void(ShareError)>;
  using WriteQueue = ShareWriteQueue<StateKey, PersistDone>;
  struct Slot {
    SlotStatus status = SlotStatus::kLoading;
    int32_t leader_epoch = -1;
    uint64_t load_id = 0;
    WriteQueue writes;          // group commit of this state partition's snapshots
    bool write_posted = false;  // a start_write() is queued on the loop
  };
  struct FetchOp;
  using LoadOp = ShareLoadState;
  using Record = std::pair<std::string, std::optional<std::string>>;

  // ---- fetch (share_coordinator_fetch.cpp) ----
  void fetch_round(const std::shared_ptr<FetchOp>& op);
  void fetch_partition(const std::shared_ptr<FetchOp>& op, const TopicPartition& tp);
  void read_for_fetch(const std::shared_ptr<FetchOp>& op, const TopicPartition& tp);
  void take_records(FetchOp& op, const TopicPartition& tp, const ShareRead& read);
  void finish_round(const std::shared_ptr<FetchOp>& op);
  void park(const std::shared_ptr<FetchOp>& op);
  void resume(const std::shared_ptr<FetchOp>& op, uint64_t park_seq);
  // Up to `records` records of the group may have become deliverable (an
  // ack, a lock expiry, a dead letter done): parked fetches look again.
  void wake_fetches(const std::string& group_id, size_t records);
  void answer_fetch(FetchOp& op, ShareError error, const std::string& message);

  // ---- dead letters (share_coordinator_dlq.cpp) ----
  void maybe_dead_letter(const std::string& group_id, const TopicPartition& tp);
  void dead_letter_write(const std::string& group_id, const TopicPartition& tp, int64_t offset,
                         uint64_t load_id);
  void dead_letter_append(const std::string& group_id, const TopicPartition& tp, int64_t offset,
                          uint64_t load_id, const ShareRead& read);
  void dead_letter_finished(const std::string& group_id, const TopicPartition& tp, uint64_t load_id,
                            bool ok);
  std::optional<TopicPartition> dead_letter_partition(const PartitionEntry& entry,
                                                      const TopicPartition& source);

  // ---- groups and persistence (share_coordinator.cpp) ----
  ShareError check_group(const std::string& group_id, int32_t* partition) const;
  GroupEntry* find(const std::string& group_id);
  GroupEntry& group_entry(const std::string& group_id, int32_t partition);
  PartitionEntry& partition_entry(GroupEntry& group, const TopicPartition& tp);
  // Writes the snapshots of `tps` of the group with acks=-1; done(kNone) once
  // acknowledged.
  // Changes that arrive while a write of the same state partition is in
  // flight go out together in the next one (share_write_queue.h).
  void persist(const std::string& group_id, const std::set<TopicPartition>& tps, PersistDone done);
  void post_write(int32_t partition);
  void start_write(int32_t partition);
  void write_finished(int32_t partition, uint64_t load_id, const WriteQueue::Batch& batch,
                      ShareError e);
  void append(int32_t partition, const std::vector<Record>& records,
              std::function<void(ShareError, int64_t)> done);
  bool slot_current(int32_t partition, uint64_t load_id) const;
  uint64_t load_id_of(int32_t partition) const;
  void count(GroupEntry& group, const ShareEvents& events);
  std::string new_member_id();
  void expire_members(GroupEntry& group, int64_t now);
  int64_t now_ms() const;

  // ---- leadership and loading (share_coordinator_load.cpp) ----
  void handle_metadata_change(const cluster::MetadataImage& image);
  void begin_load(int32_t partition, int32_t leader_epoch);
  void write_load_marker(int32_t partition, uint64_t load_id);
  void load_step(int32_t partition, uint64_t load_id, std::shared_ptr<LoadOp> op);
  void finish_load(int32_t partition, LoadOp& op);
  void unload(int32_t partition);
  void retry_later(std::function<void()> fn, std::chrono::milliseconds delay);

  // ---- timers ----
  void schedule_tick();
  void on_tick();
  void update_gauges();

  asio::io_context& io_;
  const Options& options_;
  broker::Backend& backend_;
  ShareIo& share_io_;
  broker::MetadataView& view_;
  broker::ControllerClient& controller_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  asio::steady_timer tick_timer_;
  bool started_ = false;
  bool stopped_ = false;
  bool creating_topic_ = false;
  std::mt19937_64 rng_;  // member ids and backoff jitter; not security-relevant
  uint64_t next_load_id_ = 1;
  uint64_t ticks_ = 0;
  uint64_t parks_ = 0;

  std::map<int32_t, Slot> slots_;  // state partitions this broker leads
  std::map<std::string, GroupEntry, std::less<>> groups_;
  std::set<std::shared_ptr<FetchOp>> fetches_;  // parked fetches, answered on stop

  metrics::Counter* loads_total_;
  metrics::Counter* state_writes_total_;
  metrics::Counter* state_changes_total_;
};

}  // namespace dmq::group
