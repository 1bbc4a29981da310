#pragma once
// On-disk formats of a partition log directory, in one place (see README.md,
// "Partition logs"). The layout follows Kafka's so that operators recognise it:
//
//   <data-dir>/logs/<topic>-<partition>/
//     00000000000000000000.log        RecordBatches (magic v2) back to back, verbatim
//     00000000000000000000.index      sparse offset index: 8-byte entries
//                                     [u32 offset - base][u32 file position], big-endian
//     00000000000000000000.timeindex  time index: 12-byte entries
//                                     [i64 max timestamp so far][u32 offset - base]
//     partition.checkpoint            high watermark, log start offset, recovery point
//     leader-epoch-checkpoint         Kafka's text format: version, count, "epoch offset" lines
//
// Only the RecordBatch header fields the log needs are read here (their layout
// is common/batch_layout.h, shared with the codec in src/kafka/protocol).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/batch_layout.h"
#include "store/log_types.h"

namespace dmq::store::format {

// Header fields of one batch, decoded from untrusted bytes.
struct BatchHeader {
  Offset base_offset;
  uint32_t total_bytes = 0;  // batch_layout::kLogOverhead + batchLength
  int32_t leader_epoch = -1;
  uint32_t crc = 0;
  int32_t last_offset_delta = 0;
  int64_t max_timestamp_ms = -1;
  Offset last_offset() const { return Offset(base_offset.value + last_offset_delta); }
};

// Decodes the header at the start of `bytes` (at least batch_layout::kHeaderSize) and
// checks what can be checked without the body: magic 2, batchLength large
// enough for the header, lastOffsetDelta >= 0. Returns nullopt when invalid.
std::optional<BatchHeader> parse_batch_header(std::string_view bytes);

// True when the CRC32C stored in `batch` (a whole batch) matches its body.
bool batch_crc_ok(std::string_view batch);

// Header fields the cleaner reads (`batch` holds at least the 61-byte header).
int64_t batch_producer_id(std::string_view batch);
bool batch_is_control(std::string_view batch);
int32_t batch_record_count(std::string_view batch);
// `batch`'s header with no records: record count 0, no compression, a fresh
// CRC, the same base offset and last offset delta. Kafka's cleaner keeps such
// an empty batch when it removes every record of a producer's last batch, so
// the producer's sequence and epoch survive (DefaultRecordBatch.writeEmptyHeader).
std::string empty_batch_like(std::string_view batch);

void put_be64(char* p, uint64_t v);
void put_be32(char* p, uint32_t v);
uint64_t get_be64(const char* p);
uint32_t get_be32(const char* p);

// Index files.
inline constexpr size_t kOffsetIndexEntryBytes = 8;
inline constexpr size_t kTimeIndexEntryBytes = 12;

// File names.
inline constexpr std::string_view kLogSuffix = ".log";
inline constexpr std::string_view kIndexSuffix = ".index";
inline constexpr std::string_view kTimeIndexSuffix = ".timeindex";
inline constexpr std::string_view kTempSuffix = ".tmp";
inline constexpr std::string_view kPartitionCheckpointName = "partition.checkpoint";
inline constexpr std::string_view kEpochCheckpointName = "leader-epoch-checkpoint";
// The cleaner's first dirty offset, one decimal line; and its work directory,
// which holds a rewritten segment and the swap marker (CLEANER.md).
inline constexpr std::string_view kCleanerCheckpointName = "cleaner-offset-checkpoint";
inline constexpr std::string_view kCleaningDirName = "cleaning";
inline constexpr std::string_view kSwapMarkerName = "swap";

// "00000000000000000042" for offset 42: 20 digits, so names sort as offsets.
std::string segment_stem(Offset base_offset);
// The base offset of a segment file name ("<20 digits><suffix>"), or nullopt.
std::optional<Offset> parse_segment_name(std::string_view name, std::string_view suffix);

// partition.checkpoint, a text file written atomically:
//   "dmq-partition-checkpoint 1\n" then "high_watermark N\n",
//   "log_start_offset N\n", "recovery_point N\n".
struct PartitionCheckpoint {
  Offset high_watermark;
  Offset log_start_offset;
  Offset recovery_point;  // every byte and index entry below it has been synced
};
std::string encode_partition_checkpoint(const PartitionCheckpoint& c);
std::optional<PartitionCheckpoint> decode_partition_checkpoint(std::string_view text);

}  // namespace dmq::store::format
