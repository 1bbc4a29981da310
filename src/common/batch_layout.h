#pragma once
// The byte layout of a Kafka RecordBatch v2 header (KIP-98), in one place for
// the codec (src/kafka/protocol) and the partition log (src/store), which
// stores batches verbatim. All fields are big-endian. The CRC is CRC-32C of
// the bytes from kAttributes to the end of the batch, so it covers neither
// the base offset nor the partition leader epoch that the broker rewrites.

#include <cstddef>
#include <cstdint>

namespace dmq::batch_layout {

inline constexpr size_t kBaseOffset = 0;             // int64, rewritten by the broker
inline constexpr size_t kBatchLength = 8;            // int32, bytes after this field
inline constexpr size_t kPartitionLeaderEpoch = 12;  // int32, rewritten by the broker
inline constexpr size_t kMagic = 16;                 // int8, must be 2
inline constexpr size_t kCrc = 17;                   // uint32 CRC-32C of [kAttributes, end)
inline constexpr size_t kAttributes = 21;            // int16
inline constexpr size_t kLastOffsetDelta = 23;       // int32
inline constexpr size_t kBaseTimestamp = 27;         // int64
inline constexpr size_t kMaxTimestamp = 35;          // int64
inline constexpr size_t kProducerId = 43;            // int64
inline constexpr size_t kProducerEpoch = 51;         // int16
inline constexpr size_t kBaseSequence = 53;          // int32
inline constexpr size_t kRecordCount = 57;           // int32
inline constexpr size_t kHeaderSize = 61;            // records (maybe compressed) follow
inline constexpr size_t kLogOverhead = 12;           // baseOffset + batchLength
inline constexpr int8_t kMagicV2 = 2;

// Attribute bits.
inline constexpr int16_t kCompressionMask = 0x07;
inline constexpr int16_t kTimestampTypeBit = 0x08;  // 1 = LogAppendTime
inline constexpr int16_t kTransactionalBit = 0x10;
inline constexpr int16_t kControlBit = 0x20;
inline constexpr int16_t kDeleteHorizonBit = 0x40;

}  // namespace dmq::batch_layout
