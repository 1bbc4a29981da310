#pragma once
// Reading the records inside fetched batches: the one walk every reader of a
// log shares (the CLI consumer, the share-group coordinator, HTTP consume).
// Whole batches in, one callback per record out, with the record's absolute
// offset and its timestamp as a consumer sees it (LogAppendTime topics carry
// the batch's max timestamp). Pure.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/protocol/record_batch.h"

namespace dmq::kafka {

struct RecordInLog {
  int64_t offset = 0;
  int64_t timestamp_ms = -1;
  const Record& record;  // views into the walked bytes (or their decompressed copy)
};

struct RecordWalk {
  BatchError error = BatchError::kOk;
  int64_t next_offset = -1;  // after the last whole batch seen (or the record that stopped it)
  int64_t records = 0;       // records handed to the callback
};

// Calls `on_record` for every record at or after `from_offset` in the whole
// batches of `bytes` (a Fetch partition's records). A truncated last batch (a
// read cut at max_bytes) is ignored; control batches are skipped but move
// next_offset. `on_record` returns false to stop early. A malformed batch ends
// the walk with its error; what came before it was delivered.
RecordWalk walk_records(std::string_view bytes, int64_t from_offset,
                        const std::function<bool(const RecordInLog&)>& on_record);

// A record that owns its bytes, for readers that keep records past the walk.
struct OwnedRecord {
  int64_t offset = 0;
  int64_t timestamp_ms = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

OwnedRecord to_owned(const RecordInLog& r);

// At most `max` records from `from_offset` on, owned (a read returns far more
// than a caller delivers; copying the rest would be waste).
std::vector<OwnedRecord> decode_records(std::string_view bytes, int64_t from_offset, size_t max);

}  // namespace dmq::kafka
