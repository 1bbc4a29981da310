#pragma once
// One segment of a partition log: a .log file of whole RecordBatches whose
// offsets start at base_offset(), plus its offset and time indexes.
//
// Ownership and threads: a Segment is owned by its PartitionLog and every
// method runs under that log's lock. The File handles are shared_ptrs so a
// read slice or a flusher can keep using them after the lock is released, or
// after the segment is deleted (the fd stays open until the last user drops it).

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "store/file_env.h"
#include "store/log_format.h"
#include "store/log_index.h"

namespace dmq::store {

// Header facts of one batch that the segment and its indexes need.
struct BatchInfo {
  Offset base_offset;
  Offset last_offset;
  int64_t max_timestamp_ms = -1;
  int32_t leader_epoch = -1;
  uint32_t bytes = 0;
};

struct BatchLocation {
  uint64_t position = 0;
  format::BatchHeader header;
};

class Segment {
 public:
  // Opens the three files of the segment at `base_offset` in `dir`. With
  // `create`, they are created empty (any stale contents are discarded).
  static IoStatus open(FileEnv& env, const std::string& dir, Offset base_offset, bool create,
                       std::unique_ptr<Segment>* out);

  Offset base_offset() const { return base_; }
  Offset next_offset() const { return next_offset_; }  // one past the last offset held
  uint64_t size_bytes() const { return size_bytes_; }
  bool empty() const { return size_bytes_ == 0; }
  int64_t max_timestamp_ms() const { return max_timestamp_ms_; }  // -1 when none

  // Appends `bytes`, which hold exactly the batches `batches` describes (in
  // order, offsets final, the first at next_offset()), with one write, then
  // updates the indexes: an offset index entry whenever index_interval_bytes
  // have been written since the last one.
  //
  // A failed write (ENOSPC, EIO) is undone: the log file is cut back to its
  // size before the call and the index entries of these batches are dropped,
  // so no half batch stays visible and the segment can take the next append.
  // *undone says whether that worked; when it did not, the file no longer
  // matches the segment and the log must close.
  IoStatus append(std::string_view bytes, std::span<const BatchInfo> batches,
                  uint32_t index_interval_bytes, bool* undone);

  // The batch holding `target`, or the first one after it when `target` fell
  // in a gap the cleaner left; requires base_offset() <= target < next_offset().
  // kNotFound when no batch of this segment ends at or after `target`; an
  // error when the bytes on disk no longer parse.
  IoStatus find_batch(Offset target, BatchLocation* out) const;
  // Header of the batch at `position` (< size_bytes()).
  IoStatus read_header(uint64_t position, format::BatchHeader* out) const;
  // The end position of the longest run of whole batches that starts at
  // `start` (a batch boundary), stays within `max_bytes` (but always holds the
  // first batch), and holds only batches with base offset < `max_offset`.
  // *next_offset is one past the last offset in that run.
  IoStatus extent(uint64_t start, uint64_t max_bytes, Offset max_offset, uint64_t* end,
                  Offset* next_offset) const;
  // The first batch whose max timestamp is >= timestamp_ms, if any.
  IoStatus find_timestamp(int64_t timestamp_ms, std::optional<BatchLocation>* out) const;

  // Loads both index files; false in *consistent when one had to be dropped.
  IoStatus load_indexes(bool* consistent);
  // Validates batches from `from` (an offset index entry, or {base, 0}) to the
  // end of the file: length, magic 2, CRC32C, contiguous offsets. Cuts the
  // file at the first bad or torn batch (*truncated_bytes says how much) and
  // rebuilds the index entries past `from`. `on_batch` sees each good batch.
  IoStatus recover_from(OffsetIndexEntry from, uint32_t index_interval_bytes,
                        const std::function<void(const format::BatchHeader&)>& on_batch,
                        uint64_t* truncated_bytes);
  // The offset index entry at or before `offset` ({base, 0} when none).
  OffsetIndexEntry index_entry_at_or_before(Offset offset) const { return index_.lookup(offset); }
  // Makes next_offset() equal `next` without scanning (a sealed segment whose
  // successor starts at `next`), taking max timestamp from the time index.
  // False when the indexes do not fit that (the caller then rescans).
  bool adopt_sealed_state(Offset next);
  // A cleaned segment covers offsets up to its successor's base even when
  // its last batches were removed.
  void extend_to(Offset next) { next_offset_ = std::max(next_offset_, next); }
  // Removes every batch at or after the one holding `offset`.
  IoStatus truncate_to(Offset offset, uint32_t index_interval_bytes);
  // Called when the log rolls past this segment: records the final max
  // timestamp in the time index so it survives without a rescan.
  IoStatus seal();
  IoStatus remove_files(FileEnv& env);

  const std::shared_ptr<File>& log_file() const { return log_; }
  const std::shared_ptr<File>& offset_index_file() const { return index_.file(); }
  const std::shared_ptr<File>& time_index_file() const { return time_index_.file(); }

  // Set by writes, cleared by the PartitionLog when it snapshots files to sync.
  bool data_dirty = false;
  bool index_dirty = false;

 private:
  Segment(Offset base, std::string dir, std::shared_ptr<File> log, std::shared_ptr<File> index,
          std::shared_ptr<File> time_index);
  IoStatus index_batch(const BatchInfo& batch, uint64_t position, uint32_t index_interval_bytes);
  void remember(uint64_t position, const format::BatchHeader& header);
  const BatchLocation* recent_at(uint64_t position) const;

  Offset base_;
  std::string dir_;
  std::shared_ptr<File> log_;
  OffsetIndex index_;
  TimeIndex time_index_;
  Offset next_offset_;
  uint64_t size_bytes_ = 0;
  int64_t max_timestamp_ms_ = -1;
  Offset max_timestamp_offset_;
  uint64_t bytes_since_index_entry_ = 0;
  bool indexes_missing_ = false;  // an index file did not exist at open
  // Headers of the batches written last, in file order. Consumers and
  // followers that keep up fetch from here, and find their batches without
  // reading headers back from the file (a pread per batch walked).
  std::deque<BatchLocation> recent_;
};

std::string segment_path(const std::string& dir, Offset base, std::string_view suffix);

}  // namespace dmq::store
