#pragma once
// Rewriting stored batches for key-based compaction (the log cleaner,
// broker/log_cleaner_codec.h); reading them is record_walk.h's job. Pure;
// thread-compatible.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "kafka/protocol/record_batch.h"

namespace dmq::kafka {

// Bound on a batch's decompressed records (a hostile batch cannot balloon).
inline constexpr size_t kMaxFilterOutputBytes = size_t{64} << 20;

// Rebuilds `batch` with only the records keep() accepts, as Kafka's cleaner
// does (MemoryRecords.filterTo): the header keeps its base offset, last
// offset delta, timestamps, producer id/epoch/base sequence and attributes;
// each kept record is copied byte for byte, so it keeps its offset delta;
// the records are recompressed with the batch's codec and the CRC is
// recomputed. *kept counts the kept records; `out` is cleared when none is.
BatchError filter_records(std::string_view batch,
                          const std::function<bool(int64_t offset, const Record&)>& keep,
                          std::string& out, int32_t* kept,
                          size_t max_output_bytes = kMaxFilterOutputBytes);

// Compresses a records payload with `codec` (gzip, lz4 frame, zstd; none
// copies). kUnsupportedCompression for snappy.
BatchError compress_records(Compression codec, std::string_view records, std::string& out);

}  // namespace dmq::kafka
