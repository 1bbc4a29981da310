#pragma once
// Kafka record batches, magic 2 (DefaultRecordBatch.java): the layout
// constants, the Produce-path validator, in-place header rewrites, and a
// record iterator/builder for the few places that look inside batches (the
// group coordinator's own records, tests).
//
// The broker stores batches verbatim: it validates the header and CRC, then
// rewrites only baseOffset and partitionLeaderEpoch, neither of which the CRC
// covers. It never decompresses on the produce path.
//
// Errors are BatchError values (input is never asserted on); to_error_code()
// maps them to the Kafka error the Produce response carries.
// Everything here is pure and thread-compatible.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch_layout.h"
#include "kafka/protocol/error_code.h"

namespace dmq::kafka {

enum class Compression : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

enum class BatchError : uint8_t {
  kOk = 0,
  kTruncated,               // bytes end inside a batch          -> CORRUPT_MESSAGE
  kBadLength,               // batchLength below the header size -> CORRUPT_MESSAGE
  kBadCrc,                  // CRC-32C mismatch                  -> CORRUPT_MESSAGE
  kBadMagic,                // magic != 2                        -> INVALID_RECORD
  kTooLarge,                // batch > max batch bytes           -> MESSAGE_TOO_LARGE
  kUnsupportedCompression,  // codec > 4, or zstd when not allowed -> UNSUPPORTED_COMPRESSION_TYPE
  kBadRecordCount,          // recordCount != lastOffsetDelta + 1, or <= 0 -> INVALID_RECORD
  kControlBatch,            // control batch from a producer     -> INVALID_RECORD
  kMissingSequence,         // producerId >= 0, baseSequence < 0 -> INVALID_RECORD
  kBatchCount,              // not exactly one batch (Produce v3+) -> INVALID_RECORD
  kBadRecord,               // malformed record inside a batch   -> CORRUPT_MESSAGE
  kDecompression,           // compressed payload does not decode -> CORRUPT_MESSAGE
};

ErrorCode to_error_code(BatchError error);
std::string_view batch_error_name(BatchError error);

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = 0;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = -1;
  int64_t max_timestamp = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  size_t total_size() const {
    return static_cast<size_t>(batch_length) + batch_layout::kLogOverhead;
  }
  Compression compression() const {
    return static_cast<Compression>(attributes & batch_layout::kCompressionMask);
  }
  bool is_log_append_time() const { return attributes & batch_layout::kTimestampTypeBit; }
  bool is_transactional() const { return attributes & batch_layout::kTransactionalBit; }
  bool is_control() const { return attributes & batch_layout::kControlBit; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  // The sequence of the last record; wraps past INT32_MAX like Kafka's.
  int32_t last_sequence() const;
};

// Reads the 61-byte header at the start of `bytes` without checking the CRC or
// the length against `bytes`. kTruncated if fewer than 61 bytes.
BatchError read_batch_header(std::string_view bytes, BatchHeader& out);

struct BatchLimits {
  int64_t max_batch_bytes = 1048588;  // topic max.message.bytes (Kafka default)
  bool allow_zstd = true;             // false for Produce < v7 (KIP-110)
  bool allow_control = false;         // only the transaction coordinator writes them
  bool single_batch = true;           // Produce v3+: exactly one batch per partition
};

// What the validator learned; `first` is the first batch's header (producer
// id/epoch/base sequence for idempotence checks).
struct RecordSetInfo {
  BatchError error = BatchError::kOk;
  size_t error_offset = 0;  // byte offset of the offending batch
  int32_t batch_count = 0;
  int64_t record_count = 0;  // sum over batches of lastOffsetDelta + 1
  int64_t max_timestamp = -1;
  BatchHeader first;
};

// Validates a Produce `records` field (ProduceRequest.validateRecords and
// LogValidator's header checks): per batch the length, magic, size limit,
// CRC-32C, compression codec, control bit, record count and sequence; and the
// batch count. Empty input is kBatchCount. Reads only; O(bytes) for the CRC.
RecordSetInfo validate_record_set(std::string_view records, const BatchLimits& limits);

// The length of the longest prefix of `bytes` made of whole batches with a
// good CRC: where log recovery truncates a torn tail.
size_t valid_prefix_length(std::string_view bytes);

// In-place rewrites of a batch header at `batch` (at least 61 valid bytes).
// The first two fields are outside the CRC, so the CRC stays valid.
void set_base_offset(char* batch, int64_t base_offset);
void set_partition_leader_epoch(char* batch, int32_t epoch);
// Sets the LogAppendTime attribute and maxTimestamp, and recomputes the CRC
// (only for topics with message.timestamp.type=LogAppendTime). `size` is the
// batch's total size.
void set_log_append_time(char* batch, size_t size, int64_t now_ms);

// Assigns consecutive offsets to every batch of a validated set, starting at
// `next_offset`, and stamps `leader_epoch`; returns the offset after the last
// record (the new log end offset).
int64_t assign_offsets(char* records, size_t size, int64_t next_offset, int32_t leader_epoch);

// ---- records inside a batch (DefaultRecord.java) --------------------------------

struct RecordHeader {
  std::string_view key;
  std::optional<std::string_view> value;
};

struct Record {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<std::string_view> key;    // null key
  std::optional<std::string_view> value;  // null value = tombstone
  std::vector<RecordHeader> headers;
};

// Iterates the records of an uncompressed record payload (the bytes after the
// 61-byte header, or the output of decompress_records()). Views point into the
// payload. next() returns false at the end or on error; check error().
class RecordIterator {
 public:
  RecordIterator(std::string_view payload, int32_t record_count)
      : rest_(payload), remaining_(record_count) {}
  bool next(Record& out);
  BatchError error() const { return error_; }
  bool done() const { return remaining_ == 0 && error_ == BatchError::kOk; }

 private:
  std::string_view rest_;
  int32_t remaining_;
  BatchError error_ = BatchError::kOk;
};

// Decompresses the records of a whole batch (`batch` = its total bytes) into
// `out` (uncompressed batches are copied). gzip, lz4 (frame) and zstd are
// supported; snappy gives kUnsupportedCompression. Output beyond
// `max_output_bytes` gives kDecompression, so a hostile batch cannot balloon.
BatchError decompress_records(std::string_view batch, std::string& out,
                              size_t max_output_bytes = 64u << 20);

// Decompresses a payload of `codec` (the same codecs and limit as above); the
// legacy message-set path uses it for the value of a compressed wrapper.
BatchError decompress(Compression codec, std::string_view payload, std::string& out,
                      size_t max_output_bytes = 64u << 20);

// Builds an uncompressed magic-2 batch with a valid CRC (used by the group
// coordinator for its own records, and by tests).
class RecordBatchBuilder {
 public:
  struct Options {
    int64_t base_offset = 0;
    int32_t partition_leader_epoch = -1;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    int16_t attributes = 0;  // compression bits must be 0
  };
  RecordBatchBuilder() = default;
  explicit RecordBatchBuilder(Options options) : options_(options) {}

  void add(int64_t timestamp_ms, std::optional<std::string_view> key,
           std::optional<std::string_view> value, const std::vector<RecordHeader>& headers = {});
  int32_t record_count() const { return count_; }
  // The whole batch, header included.
  std::string build() const;

 private:
  Options options_;
  std::string records_;
  int32_t count_ = 0;
  int64_t base_timestamp_ = -1;
  int64_t max_timestamp_ = -1;
};

}  // namespace dmq::kafka
