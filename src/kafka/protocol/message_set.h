#pragma once
// Legacy message sets (magic 0 and 1, LegacyRecord.java): the record format of
// Kafka before 0.11, which Produce v0-v2 carry and Fetch v0-v3 expect back.
//
// DMQ stores only magic-2 batches, as a Kafka broker with message.format.version
// 2 does: an old Produce is checked (CRC-32 of every message, magic, sizes,
// compression) and converted into one magic-2 batch on the way in; an old Fetch
// gets the stored batches down-converted on the way out, and the log itself is
// never touched.
//
// Layout of one entry: offset int64, size int32, then the message: crc uint32
// (CRC-32, IEEE, of everything after it), magic int8, attributes int8 (bits 0-2
// compression, bit 3 LogAppendTime in magic 1), timestamp int64 (magic 1 only),
// key bytes, value bytes. A compressed message's value is an inner message set.
//
// Pure; thread-compatible. Input is never asserted on.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kafka/protocol/record_batch.h"

namespace dmq::kafka {

// The magic of a Produce `records` field: the byte at offset 16 is the magic
// in both layouts (a message's after offset, size and crc; a batch's after
// baseOffset, batchLength and partitionLeaderEpoch). -1 when too short.
int8_t records_magic(std::string_view records);

struct LegacyConversion {
  BatchError error = BatchError::kOk;
  std::string batch;  // one uncompressed magic-2 batch, offsets from 0
  int32_t record_count = 0;
};

// Produce path (LogValidator's conversion): validates a magic 0/1 message set
// and converts every message, compressed wrappers unpacked, into one
// uncompressed magic-2 batch. Magic-0 messages get timestamp -1 (none), as in
// Kafka. Errors: a CRC mismatch, a short or truncated message, trailing bytes
// or a bad inner set -> kBadCrc/kBadLength/kTruncated/kBadRecord (all
// CORRUPT_MESSAGE); a magic other than 0/1 -> kBadMagic; snappy or an unknown
// codec -> kUnsupportedCompression; a result over `max_batch_bytes` -> kTooLarge.
LegacyConversion convert_message_set(std::string_view message_set, int64_t max_batch_bytes);

struct DownConversion {
  BatchError error = BatchError::kOk;
  std::string message_set;
  int32_t messages = 0;
};

// Fetch path (LazyDownConversionRecords): the records of the stored magic-2
// `batches` from offset `first_offset` on, as an uncompressed message set of
// `magic` (0 or 1). Record headers are dropped (the old formats have none),
// control batches are skipped, an incomplete trailing batch is ignored (a read
// may end inside one). Stops before the output would exceed `max_bytes`,
// except that the first message is always returned so a consumer progresses.
DownConversion down_convert(std::string_view batches, int8_t magic, int64_t first_offset,
                            size_t max_bytes);

}  // namespace dmq::kafka
