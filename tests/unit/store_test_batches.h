#pragma once
// Test helper: builds Kafka RecordBatch v2 bytes with a correct CRC32C. The
// records section is opaque filler (the partition log never parses it), so a
// batch of any size and record count can be made cheaply.

#include <cstdint>
#include <string>

#include "common/crc32c.h"
#include "store/log_format.h"

namespace dmq::store::test {

struct BatchSpec {
  int64_t base_offset = 0;
  int32_t records = 1;
  int64_t max_timestamp_ms = 1000;
  size_t total_bytes = 100;  // at least dmq::batch_layout::kHeaderSize
  int32_t leader_epoch = 0;
  char fill = 'r';
};

inline std::string make_batch(const BatchSpec& spec) {
  namespace f = dmq::store::format;
  std::string b(spec.total_bytes < dmq::batch_layout::kHeaderSize ? dmq::batch_layout::kHeaderSize
                                                                  : spec.total_bytes,
                spec.fill);
  f::put_be64(&b[dmq::batch_layout::kBaseOffset], static_cast<uint64_t>(spec.base_offset));
  f::put_be32(&b[dmq::batch_layout::kBatchLength],
              static_cast<uint32_t>(b.size() - dmq::batch_layout::kLogOverhead));
  f::put_be32(&b[dmq::batch_layout::kPartitionLeaderEpoch],
              static_cast<uint32_t>(spec.leader_epoch));
  b[dmq::batch_layout::kMagic] = 2;
  f::put_be32(&b[21], 0);  // attributes (2 bytes) + start of lastOffsetDelta, overwritten next
  f::put_be32(&b[dmq::batch_layout::kLastOffsetDelta], static_cast<uint32_t>(spec.records - 1));
  f::put_be64(&b[27], static_cast<uint64_t>(spec.max_timestamp_ms));  // baseTimestamp
  f::put_be64(&b[dmq::batch_layout::kMaxTimestamp], static_cast<uint64_t>(spec.max_timestamp_ms));
  f::put_be64(&b[43], static_cast<uint64_t>(-1));  // producerId
  f::put_be32(&b[57], static_cast<uint32_t>(spec.records));
  f::put_be32(&b[dmq::batch_layout::kCrc],
              dmq::crc32c(std::string_view(b).substr(dmq::batch_layout::kAttributes)));
  return b;
}

inline int64_t batch_base_offset(const std::string& batch) {
  return static_cast<int64_t>(dmq::store::format::get_be64(batch.data()));
}

}  // namespace dmq::store::test
