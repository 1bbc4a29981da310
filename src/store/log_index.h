#pragma once
// The two sparse indexes of a segment (Kafka's .index and .timeindex). Each
// keeps its entries in memory (sorted vectors, binary-searched) and mirrors
// them to its file with small appends; formats in log_format.h.
//
// Both are owned by one Segment and used under the PartitionLog lock; the
// file handle is shared so a flusher can sync it without that lock.

#include <memory>
#include <optional>
#include <vector>

#include "store/file_env.h"
#include "store/log_types.h"

namespace dmq::store {

struct OffsetIndexEntry {
  Offset offset;          // base offset of the batch that starts at `position`
  uint32_t position = 0;  // byte position in the segment's .log file
};

struct TimeIndexEntry {
  int64_t timestamp_ms = -1;  // largest batch max timestamp up to `offset`
  Offset offset;              // base offset of the batch that holds that timestamp
};

class OffsetIndex {
 public:
  OffsetIndex(Offset base_offset, std::shared_ptr<File> file);

  // Reads the file. Entries that are not strictly increasing in offset and
  // position, lie outside [base, base + 2^32) or point at or past `log_bytes`
  // make the whole index untrusted: *consistent = false and no entries load
  // (the caller rebuilds it from the log).
  IoStatus load(uint64_t log_bytes, bool* consistent);
  // Requires offset and position above the last entry's.
  IoStatus append(Offset offset, uint32_t position);
  // The last entry with entry.offset <= target; {base, 0} when none.
  OffsetIndexEntry lookup(Offset target) const;
  // The last entry with entry.position <= position; {base, 0} when none.
  OffsetIndexEntry lookup_position(uint64_t position) const;
  // Drops the entries with offset >= end (file too).
  IoStatus truncate_from(Offset end);
  size_t entries() const { return entries_.size(); }
  const std::shared_ptr<File>& file() const { return file_; }

 private:
  Offset base_;
  std::shared_ptr<File> file_;
  std::vector<OffsetIndexEntry> entries_;
};

class TimeIndex {
 public:
  TimeIndex(Offset base_offset, std::shared_ptr<File> file);

  // As OffsetIndex::load; timestamps must be non-negative and strictly
  // increasing, offsets non-decreasing.
  IoStatus load(bool* consistent);
  // Appends only when timestamp_ms is above the last entry's (Kafka's
  // maybeAppend); requires offset >= the last entry's.
  IoStatus maybe_append(int64_t timestamp_ms, Offset offset);
  // The last entry with entry.timestamp_ms < timestamp_ms, if any: every batch
  // before entry.offset has a smaller max timestamp.
  std::optional<TimeIndexEntry> last_before(int64_t timestamp_ms) const;
  std::optional<TimeIndexEntry> last() const;
  IoStatus truncate_from(Offset end);  // drops entries with offset >= end
  const std::shared_ptr<File>& file() const { return file_; }

 private:
  Offset base_;
  std::shared_ptr<File> file_;
  std::vector<TimeIndexEntry> entries_;
};

}  // namespace dmq::store
