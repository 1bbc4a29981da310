#pragma once
// ProducerStateTable: the idempotent-producer state of one partition replica
// (Kafka's ProducerStateManager and ProducerAppendInfo, KIP-98, reduced to
// idempotence: no transactions, no control batches).
//
// For each producer id it keeps the producer epoch and the metadata of the
// last kMaxCachedBatches (5) batches appended by that producer, the most a
// client may have in flight (max.in.flight.requests.per.connection <= 5 with
// enable.idempotence). With that cache the leader answers a retried batch
// with the offsets it got the first time instead of appending it twice.
//
// Rules (check(), on the leader, before the append), for a batch of producer
// id P, epoch E, sequences [first, last]:
//   - P == -1: not an idempotent batch; kAppend, nothing is tracked.
//   - P unknown to the table: kAppend whatever the sequence. Before KIP-360
//     (Kafka < 2.5) the broker answered UNKNOWN_PRODUCER_ID when first != 0;
//     Kafka >= 2.5 accepts it, because the producer's state may simply have
//     been removed (retention deleted its batches, it expired, or a new
//     leader's table lacks it). librdkafka (>= 1.x) treats
//     UNKNOWN_PRODUCER_ID as fatal for the idempotent producer whenever it
//     has other batches in flight or is retrying, so the strict answer would
//     kill producers after a retention pass or a failover; DMQ follows
//     Kafka >= 2.5 and has no "unknown producer" verdict.
//   - E < the producer's epoch: kFencedEpoch (INVALID_PRODUCER_EPOCH). The
//     client holding the old epoch was replaced (or bumped its epoch itself).
//   - E > the producer's epoch: the producer bumped its epoch (KIP-360: an
//     idempotent client bumps it locally after a lost batch and restarts its
//     sequences): first must be 0, else kOutOfOrder.
//   - E == the producer's epoch: a batch with exactly the [first, last] of
//     one of the cached batches is kDuplicate, answered with that batch's
//     original offsets; otherwise first must follow the latest batch's last
//     sequence (last + 1, wrapping from INT32_MAX to 0), else kOutOfOrder
//     (OUT_OF_ORDER_SEQUENCE_NUMBER).
//
// record() runs after every append, on the leader and on followers (which
// skip check(): the leader already decided). A batch with a new epoch (higher
// or lower: the follower copies what the leader wrote) resets the producer's
// cache; the sixth cached batch evicts the oldest.
//
// Time is passed in (now_ms, the broker's wall clock); nothing here reads a
// clock or does I/O. Not thread-safe: one owner (the partition, on the event
// loop) calls it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "broker/txn_index.h"
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/record_batch.h"
#include "store/log_types.h"

namespace dmq::store {
class PartitionLog;
}

namespace dmq::broker {

// What the table needs of one v2 batch (its header after the broker assigned
// offsets; before that, base_offset/last_offset are not used by check()).
struct BatchIdentity {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t last_sequence = -1;  // wraps past INT32_MAX like Kafka's
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t max_timestamp = -1;
};

// The identity of a parsed batch header (kafka::read_batch_header).
BatchIdentity batch_identity(const kafka::BatchHeader& header);

enum class SequenceVerdict {
  kAppend,       // append it (also: not an idempotent batch)
  kDuplicate,    // already in the log: answer success with the original offsets, append nothing
  kOutOfOrder,   // OUT_OF_ORDER_SEQUENCE_NUMBER
  kFencedEpoch,  // INVALID_PRODUCER_EPOCH
};

struct SequenceCheck {
  SequenceVerdict verdict = SequenceVerdict::kAppend;
  // For kDuplicate: the offsets and max timestamp the batch got when it was
  // first appended (the Produce answer's base_offset; log_append_time for
  // LogAppendTime topics). -1 otherwise.
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t max_timestamp = -1;
};

// The Produce error of a verdict: kNone for kAppend and kDuplicate.
kafka::ErrorCode to_error_code(SequenceVerdict verdict);

class ProducerStateTable {
 public:
  // Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN.
  static constexpr size_t kMaxCachedBatches = 5;

  struct BatchMetadata {
    int32_t first_sequence = 0;
    int32_t last_sequence = 0;
    int64_t first_offset = 0;
    int64_t last_offset = 0;
    int64_t max_timestamp = -1;
    bool operator==(const BatchMetadata&) const = default;
  };
  struct ProducerEntry {
    int16_t epoch = -1;
    int64_t last_update_ms = 0;         // now_ms of the latest record()
    std::deque<BatchMetadata> batches;  // oldest first; never empty; all of `epoch`
    bool operator==(const ProducerEntry&) const = default;
  };

  // The verdict for `batch` before it is appended (leader only). Pure.
  SequenceCheck check(const BatchIdentity& batch) const;
  // Records an appended batch (leader and followers). Ignores producer id -1.
  // Never fails: a follower records whatever the leader wrote.
  void record(const BatchIdentity& batch, int64_t now_ms);

  // Forgets every cached batch with last_offset >= `offset` (the log was
  // truncated there: a follower's divergent tail). A producer whose cached
  // batches all go is forgotten entirely, so its next batch is accepted with
  // any sequence (the KIP-360 rule above); rebuild from the log when exact
  // duplicate detection across the truncation point matters.
  void truncate_from(int64_t offset);
  // Drops producers idle for at least `producer_id_expiration_ms` (Kafka's
  // producer.id.expiration.ms, default 1 day) by their last record() time.
  // Returns how many went.
  size_t expire(int64_t now_ms, int64_t producer_id_expiration_ms);

  size_t producer_count() const { return producers_.size(); }
  // nullptr when `producer_id` is not tracked.
  const ProducerEntry* find(int64_t producer_id) const;
  // Every tracked producer, by producer id (DescribeProducers).
  const std::map<int64_t, ProducerEntry>& producers() const { return producers_; }

  // A self-checking binary image (format in producer_state.cpp: version,
  // entries in producer-id order, CRC-32C), for a snapshot file next to the
  // log. parse() returns nullopt for anything it did not write (bytes from
  // disk are input, never asserted on).
  std::string serialize() const;
  static std::optional<ProducerStateTable> parse(std::string_view bytes);

  bool operator==(const ProducerStateTable&) const = default;

 private:
  std::map<int64_t, ProducerEntry> producers_;  // ordered: deterministic serialize()
};

// Records every batch of `batches` (whole v2 batches, as appended: a
// follower's fetched bytes, or the leader's batch after the append rewrote
// its base offset) whose last offset is >= `from_offset`; batches without a
// producer id and control batches are skipped. False when a header does not
// parse or a batch overruns `batches` (the batches before it are recorded).
// With `txns`, transactional batches and COMMIT/ABORT markers from
// `from_offset` on feed it too.
bool record_batches(std::string_view batches, int64_t now_ms, ProducerStateTable& table,
                    int64_t from_offset = 0, TxnIndex* txns = nullptr);

// Rebuilds producer state from the log on open: record()s, with `now_ms`,
// every batch with a producer id from the one holding max(from,
// log_start_offset) to the log end, reading whole batches with read() and
// parsing their headers. Control batches are skipped. `from` is where a
// snapshot of `table` ended (Offset(0) and an empty table for a full scan).
// Returns the offset it read up to (the log end at the time of the read), or
// the log's error: kOffsetOutOfRange when `from` is beyond the log end (the
// snapshot is newer than the log: drop it and rebuild from Offset(0) into an
// empty table), kCorruptBatch if a stored batch header does not parse.
// Reads the whole tail: call it on open, off the produce path.
// With `txns`, the open and aborted transactions are rebuilt too.
store::LogResult<store::Offset> rebuild_producer_state(const store::PartitionLog& log,
                                                       store::Offset from, int64_t now_ms,
                                                       ProducerStateTable& table,
                                                       TxnIndex* txns = nullptr);

}  // namespace dmq::broker
