#pragma once
// Record batches on the client side, on top of kafka/protocol/record_batch.h:
// compressing a batch the codec's builder made (with the compressor the
// broker's log cleaner uses, kafka/protocol/record_filter.h), and walking the batches of a Fetch
// answer record by record. Pure.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "client/format.h"
#include "kafka/protocol/record_batch.h"

namespace dmq::client {

// "none", "gzip", "lz4", "zstd"; nullopt for anything else. snappy is a Kafka
// codec but this build has no snappy library, so it is refused up front.
std::optional<kafka::Compression> parse_compression(std::string_view name);

// Rewrites an uncompressed batch from RecordBatchBuilder::build() with its
// records compressed by `codec`: attributes, batchLength and CRC follow.
std::string compress_batch(const std::string& batch, kafka::Compression codec);

struct BatchWalk {
  kafka::BatchError error = kafka::BatchError::kOk;
  int64_t next_offset = -1;  // after the last whole batch seen; -1 if none
  int64_t records = 0;       // records handed to the callback
};

// Calls `on_record` for every record at or after `from_offset` in the whole
// batches of `bytes` (a Fetch partition's records). A truncated last batch
// (the broker cuts at max_bytes) is ignored; control batches are skipped but
// move next_offset. `on_record` returns false to stop early.
BatchWalk walk_records(std::string_view bytes, std::string_view topic, int32_t partition,
                       int64_t from_offset, const std::function<bool(const Message&)>& on_record);

}  // namespace dmq::client
