#pragma once
// What the Kafka request handlers need from the broker: the metadata image,
// the local partition replicas (append, read, offsets) and wake-ups for parked
// requests. The broker's PartitionManager (src/broker/partition_manager.h)
// implements it; unit tests use fakes.
//
// Why an interface: CMake links dmq_broker on top of dmq_kafka (the broker's
// replica fetchers and group coordinator use the codec), so the handlers in
// src/kafka reach the broker only through this seam and never link against
// it. Values here are DMQ's strong types (offsets, epochs, partition and
// broker ids); the handlers convert from and to the codec's wire integers.
//
// Threads: every method is called on the event-loop thread, and every
// callback runs on the event-loop thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/metadata_image.h"
#include "cluster/types.h"
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/record_batch.h"
#include "store/log_types.h"

namespace dmq::broker {

// The seam speaks Kafka's error codes: handlers put them on the wire as is.
using cluster::BrokerId;
using cluster::PartitionId;
using cluster::ProducerId;
using kafka::ErrorCode;
using store::LeaderEpoch;
using store::Offset;

// What a Produce waits for before it is answered (acks=0 never reaches the
// backend: nothing is answered).
enum class Acks : int16_t { kLeader = 1, kAll = -1 };

// The replica id of a fetch from a consumer rather than a follower.
inline constexpr BrokerId kConsumerReplicaId{-1};
inline constexpr Offset kNoOffset{-1};

struct TopicPartition {
  std::string topic;
  PartitionId partition;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// Record bytes for a Fetch response: a byte range of an open file (sent with
// sendfile or pread) or, when the store has no descriptor, owned bytes.
struct RecordChunk {
  int fd = -1;
  uint64_t position = 0;
  uint32_t length = 0;
  std::string bytes;                 // used when fd < 0 (length == bytes.size())
  std::shared_ptr<const void> keep;  // keeps the file open while the chunk lives
};

struct ProduceTarget {
  ErrorCode error = ErrorCode::kNone;
  int64_t max_batch_bytes = 0;
};

// A Produce batch as the codec's validator read it: the header is parsed once
// between the socket and the log.
struct ValidatedBatch {
  std::span<char> bytes;
  kafka::BatchHeader header;
  // A traced request wants ProduceResult::durable_unix_ns (it costs an
  // allocation, so untraced ones do not ask).
  bool timed = false;
};

struct ProduceResult {
  ErrorCode error = ErrorCode::kNone;
  Offset base_offset = kNoOffset;
  Offset log_start_offset = kNoOffset;
  int64_t log_append_time_ms = -1;  // set for topics with message.timestamp.type=LogAppendTime
  // With ValidatedBatch::timed: when the leader's group commit made the batch
  // durable (Unix ns); 0 when unknown or not synced (log.flush.on.ack=false).
  int64_t durable_unix_ns = 0;
};

struct AbortedTransaction {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
};

struct FetchRead {
  ErrorCode error = ErrorCode::kNone;
  Offset high_watermark = kNoOffset;
  Offset log_start_offset = kNoOffset;
  Offset last_stable_offset = kNoOffset;
  std::optional<RecordChunk> records;       // nullopt: nothing to return yet
  std::vector<AbortedTransaction> aborted;  // fetch_committed only
};

// What a partition leader asks the transaction coordinator before it takes
// the first transactional batch of a producer's transaction (KIP-890 part 1).
struct TxnVerification {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  TopicPartition partition;
};
// kNone: the partition is in that producer's ongoing transaction; otherwise
// the Produce error (INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE, ...).
using TxnVerifier =
    std::function<void(const TxnVerification&, std::function<void(ErrorCode)> done)>;

struct EpochEndOffset {
  ErrorCode error = ErrorCode::kNone;
  LeaderEpoch leader_epoch = store::kUnknownLeaderEpoch;  // the largest <= the requested one
  Offset end_offset = kNoOffset;  // where that epoch ends on the leader, -1 if none
};

struct ProducerIdResult {
  ErrorCode error = ErrorCode::kNone;
  ProducerId producer_id{-1};
  int16_t producer_epoch = -1;
};

struct OffsetLookup {
  ErrorCode error = ErrorCode::kNone;
  Offset offset = kNoOffset;
  int64_t timestamp = -1;
  LeaderEpoch leader_epoch = store::kUnknownLeaderEpoch;
};

class Backend {
 public:
  using Image = std::shared_ptr<const cluster::MetadataImage>;
  virtual ~Backend() = default;

  // Lifecycle, driven by the Service: start() before the listener opens ("" or
  // a one-line reason), stop() after it closed (finish in-flight work, flush).
  virtual std::string start() { return ""; }
  virtual void stop() {}

  virtual BrokerId node_id() const = 0;
  virtual Image metadata() const = 0;
  // Calls done(true) as soon as `holds(image)` is true for the current or a
  // later image, or done(false) after `timeout`. Used by CreateTopics and
  // DeleteTopics to answer once the change is visible on this broker.
  virtual void wait_for_metadata(std::function<bool(const cluster::MetadataImage&)> holds,
                                 std::chrono::milliseconds timeout,
                                 std::function<void(bool)> done) = 0;

  // Checked once per partition of a Produce request, before its batch is
  // validated: kNone when this broker leads the partition, its log can take
  // writes and, for Acks::kAll, the ISR holds min.insync.replicas; otherwise
  // UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR or
  // NOT_ENOUGH_REPLICAS. `max_batch_bytes` is the topic's max.message.bytes.
  virtual ProduceTarget produce_target(std::string_view topic, PartitionId partition,
                                       Acks acks) const = 0;
  // Appends one batch that produce_target admitted and the codec validated,
  // in the same event-loop turn (its bytes are rewritten in place: base
  // offset, leader epoch, and the timestamps for LogAppendTime topics), and
  // calls `done` once it is acknowledged: after the group commit made it
  // durable when log.flush.on.ack is on, right after the write otherwise.
  // `batch.bytes` must stay valid until `done` runs. With Acks::kAll `done`
  // runs once the high watermark (the ISR minimum) has passed the batch.
  virtual void produce(std::string_view topic, PartitionId partition, const ValidatedBatch& batch,
                       Acks acks, std::function<void(const ProduceResult&)> done) = 0;
  // A transactional batch (`transactional_id` from the Produce request):
  // admitted only when the producer's transaction is open on this partition
  // already or the transaction coordinator confirms the partition belongs to
  // it (TxnVerifier); a batch of an epoch older than the partition's last
  // marker of that producer is refused with INVALID_PRODUCER_EPOCH.
  virtual void produce_transactional(std::string_view topic, PartitionId partition,
                                     const ValidatedBatch& batch, Acks acks,
                                     std::string_view transactional_id,
                                     std::function<void(const ProduceResult&)> done) {
    done({ErrorCode::kTransactionalIdAuthorizationFailed});
  }
  // The offsets a transactional producer commits for a group (TxnOffsetCommit),
  // as a transactional batch of that producer written by the group
  // coordinator into the group's __consumer_offsets partition (acks=all), so
  // they outlive the coordinator until the marker commits or aborts them.
  // Verified like produce_transactional's first batch; the batch's sequence
  // is not checked (the coordinator, not the client, numbers it: Kafka skips
  // the check for coordinator appends too).
  virtual void append_txn_offsets(std::string_view topic, PartitionId partition,
                                  const ValidatedBatch& batch, std::string_view transactional_id,
                                  std::function<void(const ProduceResult&)> done) {
    done({ErrorCode::kTransactionalIdAuthorizationFailed});
  }
  // Appends a COMMIT or ABORT marker of `producer_id` (WriteTxnMarkers, from
  // the transaction coordinator) with acks=all; `done` once acknowledged.
  // INVALID_PRODUCER_EPOCH for a marker older than the producer's epoch here.
  virtual void write_txn_marker(std::string_view topic, PartitionId partition, int64_t producer_id,
                                int16_t producer_epoch, bool commit, int32_t coordinator_epoch,
                                std::function<void(ErrorCode)> done) {
    done(ErrorCode::kUnsupportedVersion);
  }
  // Where the leader asks about transactional batches (set by the
  // transaction coordinator at start; unset: such batches are refused).
  virtual void set_txn_verifier(TxnVerifier verifier) {}
  // Whole batches from `offset`, at most `max_bytes` but at least one batch,
  // up to the high watermark (consumers, replica_id < 0) or the log end
  // (followers).
  // A follower's fetch (replica_id >= 0) also reports that it holds, durably,
  // everything below `offset`. `current_leader_epoch` (-1: not checked) is
  // the epoch the fetcher believes current: FENCED_LEADER_EPOCH when older,
  // UNKNOWN_LEADER_EPOCH when newer than this broker's.
  virtual FetchRead fetch(std::string_view topic, PartitionId partition, Offset offset,
                          uint32_t max_bytes, BrokerId replica_id,
                          LeaderEpoch current_leader_epoch) = 0;
  // A read_committed consumer's fetch: as fetch() for a consumer, up to the
  // last stable offset, with the aborted transactions of the range read.
  virtual FetchRead fetch_committed(std::string_view topic, PartitionId partition, Offset offset,
                                    uint32_t max_bytes, LeaderEpoch current_leader_epoch) {
    return fetch(topic, partition, offset, max_bytes, kConsumerReplicaId, current_leader_epoch);
  }
  // Calls `wake` once, when one of `partitions` may have more to read (its
  // high watermark moved, or for a follower (replica_id >= 0) its log end
  // moved, or it went away) or after `timeout`.
  virtual void park(const std::vector<TopicPartition>& partitions,
                    std::chrono::milliseconds timeout, BrokerId replica_id,
                    std::function<void()> wake) = 0;
  // A follower's fetch (replica_id >= 0) received at `received` must be
  // answered by the returned time, earlier than its max_wait_ms, when this
  // broker has since become the leader of a partition `replica_id` follows
  // (at once: the request cannot name it) or when `replica_id` has not
  // fetched such a new partition yet (shortly: it may not know of it when it
  // sent the request). A parked follower fetch is woken when that happens.
  // Without such a partition: time_point::max().
  virtual std::chrono::steady_clock::time_point replica_answer_by(
      BrokerId /*replica_id*/, std::chrono::steady_clock::time_point /*received*/) {
    return std::chrono::steady_clock::time_point::max();
  }
  // ListOffsets: -1 latest (the high watermark), -2 earliest, -3 max
  // timestamp, otherwise the first record with a timestamp >= `timestamp`.
  virtual OffsetLookup list_offset(std::string_view topic, PartitionId partition,
                                   int64_t timestamp) = 0;
  // DeleteRecords (KIP-107), on the leader: raises the log start offset to
  // `offset` (-1: the high watermark); OFFSET_OUT_OF_RANGE past the high
  // watermark. `offset` of the answer is the new low watermark. Followers
  // follow from the log start offset in their fetch answers.
  virtual OffsetLookup delete_records(std::string_view topic, PartitionId partition,
                                      int64_t offset) {
    return {ErrorCode::kUnsupportedVersion};
  }
  // The log start offset and high watermark of a replica hosted here, leader
  // or follower (a follower's high watermark trails the leader's by at most
  // one fetch); nullopt when not hosted. For the REST API and monitoring.
  virtual std::optional<std::pair<Offset, Offset>> replica_offsets(std::string_view topic,
                                                                   PartitionId partition) const {
    return std::nullopt;
  }
  // OffsetForLeaderEpoch (KIP-101/KIP-320), served by the leader.
  virtual EpochEndOffset end_offset_for_epoch(std::string_view topic, PartitionId partition,
                                              LeaderEpoch current_leader_epoch,
                                              LeaderEpoch leader_epoch) {
    return {ErrorCode::kUnsupportedVersion, store::kUnknownLeaderEpoch, kNoOffset};
  }
  // InitProducerId for idempotent producers (no transactional id): a fresh
  // producer id from the block this broker got from the controllers.
  virtual void init_producer_id(std::function<void(const ProducerIdResult&)> done) {
    done({ErrorCode::kUnsupportedVersion, ProducerId{-1}, -1});
  }
};

}  // namespace dmq::broker
