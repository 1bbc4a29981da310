#pragma once
// What the Kafka request handlers need from the broker: the metadata image,
// the local partition replicas (append, read, offsets) and wake-ups for parked
// requests. The broker's PartitionManager (src/broker/partition_manager.h)
// implements it; unit tests use fakes.
//
// Why an interface: CMake links dmq_broker on top of dmq_kafka (the broker's
// replica fetchers and group coordinator use the codec), so the handlers in
// src/kafka reach the broker only through this seam and never link against
// it. Values here are plain wire integers, as in the codec structs.
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
#include "kafka/protocol/error_code.h"

namespace dmq::broker {

// The seam speaks Kafka's error codes: handlers put them on the wire as is.
using kafka::ErrorCode;

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
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

struct ProduceResult {
  ErrorCode error = ErrorCode::kNone;
  int64_t base_offset = -1;
  int64_t log_start_offset = -1;
  int64_t log_append_time_ms = -1;  // set for topics with message.timestamp.type=LogAppendTime
};

struct FetchRead {
  ErrorCode error = ErrorCode::kNone;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  int64_t last_stable_offset = -1;
  std::optional<RecordChunk> records;  // nullopt: nothing to return yet
};

struct EpochEndOffset {
  ErrorCode error = ErrorCode::kNone;
  int32_t leader_epoch = -1;  // the largest epoch <= the requested one, -1 if none
  int64_t end_offset = -1;    // where that epoch ends on the leader, -1 if none
};

struct ProducerIdResult {
  ErrorCode error = ErrorCode::kNone;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

struct OffsetLookup {
  ErrorCode error = ErrorCode::kNone;
  int64_t offset = -1;
  int64_t timestamp = -1;
  int32_t leader_epoch = -1;
};

class Backend {
 public:
  using Image = std::shared_ptr<const cluster::MetadataImage>;
  virtual ~Backend() = default;

  // Lifecycle, driven by the Service: start() before the listener opens ("" or
  // a one-line reason), stop() after it closed (finish in-flight work, flush).
  virtual std::string start() { return ""; }
  virtual void stop() {}

  virtual int32_t node_id() const = 0;
  virtual Image metadata() const = 0;
  // Calls done(true) as soon as `holds(image)` is true for the current or a
  // later image, or done(false) after `timeout`. Used by CreateTopics and
  // DeleteTopics to answer once the change is visible on this broker.
  virtual void wait_for_metadata(std::function<bool(const cluster::MetadataImage&)> holds,
                                 std::chrono::milliseconds timeout,
                                 std::function<void(bool)> done) = 0;

  // kNone when this broker leads the partition and can append to it;
  // otherwise UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER or
  // KAFKA_STORAGE_ERROR.
  virtual ErrorCode check_leader(std::string_view topic, int32_t partition) const = 0;
  // Appends one validated batch (its bytes are rewritten in place: base
  // offset and leader epoch) and calls `done` once it is acknowledged: after
  // the group commit made it durable when log.flush.on.ack is on, right after
  // the write otherwise. `batch` must stay valid until `done` runs.
  // `acks` is 1 or -1; with -1 `done` runs once the high watermark (the ISR
  // minimum) has passed the batch.
  virtual void produce(std::string_view topic, int32_t partition, std::span<char> batch,
                       int16_t acks, std::function<void(const ProduceResult&)> done) = 0;
  // Whole batches from `offset`, at most `max_bytes` but at least one batch,
  // up to the high watermark (consumers, replica_id < 0) or the log end
  // (followers).
  // A follower's fetch (replica_id >= 0) also reports that it holds, durably,
  // everything below `offset`. `current_leader_epoch` (-1: not checked) is
  // the epoch the fetcher believes current: FENCED_LEADER_EPOCH when older,
  // UNKNOWN_LEADER_EPOCH when newer than this broker's.
  virtual FetchRead fetch(std::string_view topic, int32_t partition, int64_t offset,
                          uint32_t max_bytes, int32_t replica_id, int32_t current_leader_epoch) = 0;
  // Calls `wake` once, when one of `partitions` may have more to read (its
  // high watermark moved, or for a follower (replica_id >= 0) its log end
  // moved, or it went away) or after `timeout`.
  virtual void park(const std::vector<TopicPartition>& partitions,
                    std::chrono::milliseconds timeout, int32_t replica_id,
                    std::function<void()> wake) = 0;
  // ListOffsets: -1 latest (the high watermark), -2 earliest, -3 max
  // timestamp, otherwise the first record with a timestamp >= `timestamp`.
  virtual OffsetLookup list_offset(std::string_view topic, int32_t partition,
                                   int64_t timestamp) = 0;
  // The log start offset and high watermark of a replica hosted here, leader
  // or follower (a follower's high watermark trails the leader's by at most
  // one fetch); nullopt when not hosted. For the REST API and monitoring.
  virtual std::optional<std::pair<int64_t, int64_t>> replica_offsets(std::string_view topic,
                                                                     int32_t partition) const {
    return std::nullopt;
  }
  // OffsetForLeaderEpoch (KIP-101/KIP-320), served by the leader.
  virtual EpochEndOffset end_offset_for_epoch(std::string_view topic, int32_t partition,
                                              int32_t current_leader_epoch, int32_t leader_epoch) {
    return {ErrorCode::kUnsupportedVersion, -1, -1};
  }
  // InitProducerId for idempotent producers (no transactional id): a fresh
  // producer id from the block this broker got from the controllers.
  virtual void init_producer_id(std::function<void(const ProducerIdResult&)> done) {
    done({ErrorCode::kUnsupportedVersion, -1, -1});
  }
};

}  // namespace dmq::broker
