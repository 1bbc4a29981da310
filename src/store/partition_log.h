#pragma once
// PartitionLog: the storage of one partition replica, a directory of segment
// files holding Kafka RecordBatches (magic v2) verbatim (layout in
// log_format.h and README.md).
//
// Offsets. The leader path, append(), assigns offsets by rewriting only each
// batch's baseOffset field (the batch CRC does not cover it) and writes the
// caller's bytes once. The follower path, append_as_follower(), keeps the
// leader's offsets and requires them to continue the log exactly.
//
// Durability. Appends land in the page cache. flush() makes everything
// appended so far durable (one fdatasync per dirty segment file) and is meant
// to run on the GroupCommitter's flusher thread, never the event loop.
// durable_end_offset() is the end of the durable prefix; acknowledge a batch
// only once it passes the batch. A failed write or fsync is fatal for the log
// (the fsyncgate lesson: after a failed fsync the kernel may have dropped the
// dirty pages, so retrying would report success for lost data): every later
// append and flush returns kStorageFailed. The broker takes the replica offline.
//
// Crash recovery (open): every segment from the one holding the checkpointed
// recovery point onwards is scanned batch by batch (length, magic 2, CRC32C,
// contiguous offsets); the log is cut at the first bad or torn batch and the
// segments after it are deleted; indexes of scanned segments are rebuilt.
// Older segments keep their indexes when those are consistent.
//
// Threads. Every public method is thread-safe (one internal mutex, never held
// across an fsync). In practice the event loop calls append/read/truncate/
// retention and the flusher calls flush(); checkpoint() and
// maybe_apply_retention() may block on disk syncs/unlinks and belong on a
// background thread too.
//
// Time. Callers pass the wall clock (now_ms) in; nothing here reads a clock.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/file_env.h"
#include "store/leader_epoch_cache.h"
#include "store/log_cleaner.h"
#include "store/log_types.h"
#include "store/segment.h"

namespace dmq::store {

// Topic-level settings, with Kafka's names and defaults.
struct PartitionLogConfig {
  uint64_t segment_bytes = uint64_t{1} << 30;            // segment.bytes; at most 2^31
  int64_t segment_ms = int64_t{7} * 24 * 3600 * 1000;    // segment.ms
  int64_t retention_ms = int64_t{7} * 24 * 3600 * 1000;  // retention.ms; -1: no limit
  int64_t retention_bytes = -1;                          // retention.bytes; -1: no limit
  uint32_t index_interval_bytes = 4096;                  // index.interval.bytes
  // cleanup.policy: "delete" (retention above), "compact" (the cleaner keeps
  // the latest record per key; retention.* does not delete), or both.
  bool cleanup_delete = true;
  bool cleanup_compact = false;
  double min_cleanable_dirty_ratio = 0.5;                   // min.cleanable.dirty.ratio
  int64_t delete_retention_ms = int64_t{24} * 3600 * 1000;  // delete.retention.ms (tombstones)
  int64_t min_compaction_lag_ms = 0;                        // min.compaction.lag.ms
  bool operator==(const PartitionLogConfig&) const = default;
};

struct AppendInfo {
  Offset base_offset;     // of the first batch
  Offset last_offset;     // of the last record of the last batch
  Offset log_end_offset;  // after the append (last_offset + 1)
  int64_t max_timestamp_ms = -1;
  size_t batch_count = 0;
};

// A byte range of one segment file: whole batches, ready for sendfile(fd).
// Holding it keeps the file open even if retention deletes the segment.
struct FileSlice {
  std::shared_ptr<File> file;
  uint64_t position = 0;
  uint64_t length = 0;
  int fd() const { return file ? file->fd() : -1; }  // -1: not a real file, use read_into
};

struct ReadResult {
  FileSlice slice;          // empty (length 0) when there is nothing to return
  Offset first_offset;      // base offset of the first batch in the slice
  Offset next_offset;       // one past the last offset in the slice
  Offset log_start_offset;  // at the time of the read
  Offset log_end_offset;
};

struct TimestampOffset {
  Offset offset;              // base offset of the first batch with max timestamp >= the target
  int64_t timestamp_ms = -1;  // that batch's max timestamp
  // ListOffsets wants the first *record* at or after the timestamp; the
  // caller finds it by decoding this one batch (src/kafka), which this layer
  // does not parse.
};

class PartitionLog {
 public:
  // Opens or creates the log in `dir` (created if missing), recovering it as
  // described above. kStorageFailed when the directory cannot be read or
  // written, kCorruptState when a checkpoint file is garbage. `env` must
  // outlive the log.
  static LogResult<std::shared_ptr<PartitionLog>> open(FileEnv& env, std::string dir,
                                                       const PartitionLogConfig& config,
                                                       int64_t now_ms);
  ~PartitionLog();
  PartitionLog(const PartitionLog&) = delete;
  PartitionLog& operator=(const PartitionLog&) = delete;

  // Leader append. `batches` holds one or more whole v2 batches already
  // validated by the caller (CRC included); only their framing (length, magic)
  // is rechecked here (kCorruptBatch). Each baseOffset is rewritten in place.
  // Rolls a new segment first when segment_bytes or segment_ms says so.
  LogResult<AppendInfo> append(std::span<char> batches, int64_t now_ms);
  // Leader append of one batch whose header the caller has already read and
  // validated (the produce path): `framing` gives its last offset delta (as
  // last_offset - base_offset), max timestamp, leader epoch and size, so the
  // header is not parsed again. Its baseOffset is rewritten in place.
  LogResult<AppendInfo> append_batch(std::span<char> batch, BatchInfo framing, int64_t now_ms);
  // Follower append: offsets are kept; the first batch must start at
  // log_end_offset() (else kNonContiguous) and each next batch right after
  // the previous one, with a correct CRC32C (else kCorruptBatch).
  LogResult<AppendInfo> append_as_follower(std::span<const char> batches, int64_t now_ms);

  // Whole batches starting with the one that holds start_offset, at most
  // max_bytes (but at least one batch, KIP-74), none starting at or after
  // max_offset (pass the high watermark for consumers), from one segment.
  // kOffsetOutOfRange unless log_start_offset() <= start_offset <= log_end_offset().
  LogResult<ReadResult> read(Offset start_offset, uint64_t max_bytes,
                             Offset max_offset = Offset(INT64_MAX)) const;
  // Copies a slice's bytes (for tests and envs without fds).
  static IoStatus read_into(const FileSlice& slice, std::string* out);

  // ListOffsets by time; nullopt when no batch has a timestamp >= timestamp_ms.
  // The wire sentinels kLatestTimestamp (-1) and kEarliestTimestamp (-2) give
  // log_end_offset() and log_start_offset() (timestamp -1). Other negative
  // values (e.g. KIP-734's -3) are the caller's to handle: kCorruptBatch.
  static constexpr int64_t kLatestTimestamp = -1;
  static constexpr int64_t kEarliestTimestamp = -2;
  LogResult<std::optional<TimestampOffset>> offset_for_timestamp(int64_t timestamp_ms) const;

  // Removes every batch at or after the one holding `offset` (a follower's
  // divergent tail); the new log end is that batch's base offset. Truncating
  // at or below log_start_offset() empties the log and restarts it at
  // `offset`. May write the checkpoint file (fsync) when it lowers the
  // recovery point below the one on disk.
  LogStatus truncate_to(Offset offset);

  // Deletes whole segments past retention_ms (by their max timestamp) and
  // beyond retention_bytes, oldest first, never the active segment, and
  // raises log_start_offset(). Returns how many segments went.
  LogResult<size_t> maybe_apply_retention(int64_t now_ms);

  // DeleteRecords (KIP-107): raises log_start_offset() to `offset` (capped at
  // the log end; never lowers it) and deletes the closed segments wholly below
  // it. Reads below the new start get kOffsetOutOfRange; the next checkpoint
  // persists it (as Kafka's log-start-offset checkpoint, a crash before then
  // brings the deleted records back, never loses others). Returns the log
  // start offset afterwards.
  LogResult<Offset> advance_log_start(Offset offset);

  // Makes everything appended so far durable; returns the new
  // durable_end_offset(). Runs on the flusher thread.
  LogResult<Offset> flush();
  // Syncs the indexes and atomically writes partition.checkpoint (temp file,
  // fsync, rename, fsync dir) with `high_watermark`, the log start offset and
  // the recovery point (= durable_end_offset()).
  LogStatus checkpoint(Offset high_watermark);

  // Topic configs changed (cleanup policy, retention, segment size): takes
  // effect for the next append, roll, retention round and cleaning pass.
  void set_config(const PartitionLogConfig& config);
  PartitionLogConfig config() const;
  // The partition's high watermark as the broker last saw it (any thread,
  // lock-free): the cleaner never compacts at or above it, since a record
  // there may still be truncated away while an older value of its key would
  // already be gone.
  void note_high_watermark(Offset high_watermark) {
    noted_high_watermark_.store(high_watermark.value, std::memory_order_relaxed);
  }

  // One cleaning pass (CLEANER.md), on the cleaner's thread: when the log is
  // compacted and its dirty ratio (or an expired tombstone) calls for it,
  // rewrites its closed segments below min(high watermark, checkpointed
  // recovery point, min.compaction.lag.ms) keeping the latest record per key,
  // swapping each rewritten segment in crash-safely. Appends, reads and
  // truncations go on meanwhile; a segment changed under the pass (retention,
  // truncation) is left alone. stats.more says the offset map filled up
  // before the dirty end: call again.
  LogResult<CleanStats> clean(const RecordCodec& codec, OffsetMap& map, int64_t now_ms);
  // Where the next pass starts indexing keys (the cleaner checkpoint).
  Offset first_dirty_offset() const;

  // Deletes every file of the log and its directory (topic deletion). The
  // log is closed afterwards: every call returns kStorageFailed. Open read
  // slices stay readable until dropped.
  LogStatus remove_all();

  // Leader epochs (KIP-101). Epochs stamped on appended batches are recorded
  // automatically; assign_epoch records a new leader's epoch at its log end.
  void assign_epoch(LeaderEpoch epoch, Offset start_offset);
  EpochEndOffset end_offset_for_epoch(LeaderEpoch epoch) const;
  std::optional<LeaderEpoch> latest_epoch() const;

  Offset log_start_offset() const;
  Offset log_end_offset() const;
  Offset durable_end_offset() const;
  // The high watermark read from partition.checkpoint at open (at most the
  // recovered log end), then the last value given to checkpoint().
  Offset checkpointed_high_watermark() const;
  // The error that closed the log, if any.
  std::optional<LogStatus> failure() const;
  size_t segment_count() const;
  uint64_t size_bytes() const;
  const std::string& dir() const { return dir_; }

 private:
  PartitionLog(FileEnv& env, std::string dir, const PartitionLogConfig& config);
  LogStatus recover_locked(int64_t now_ms);
  LogStatus finish_interrupted_clean_locked();
  LogStatus load_cleaner_checkpoint_locked();
  // Cleaning (partition_log_cleaner.cpp).
  struct CleanPlan;
  struct SegmentClean;
  std::optional<CleanPlan> plan_clean(int64_t now_ms);
  LogStatus index_dirty_keys(const RecordCodec& codec, OffsetMap& map, CleanPlan& plan,
                             CleanStats& stats);
  LogStatus clean_segment(const RecordCodec& codec, const OffsetMap& map, const CleanPlan& plan,
                          size_t index, int64_t now_ms, CleanStats& stats);
  void finish_pass(const CleanPlan& plan, int64_t tombstone_expiry_ms);
  void abandon_swap(SegmentClean& cleaned, bool marker_written);
  LogStatus write_cleaned(const RecordCodec& codec, const OffsetMap& map, const CleanPlan& plan,
                          size_t index, int64_t now_ms, SegmentClean& out, CleanStats& stats);
  LogStatus swap_cleaned(const CleanPlan& plan, size_t index, SegmentClean& cleaned,
                         CleanStats& stats);
  LogStatus swap_locked(size_t index, bool remove);
  size_t find_segment_locked(const std::shared_ptr<File>& log_file) const;
  std::string cleaning_dir() const;
  LogStatus load_segments_locked(const std::vector<Offset>& bases, Offset recovery_point);
  LogStatus drop_segments_after_locked(size_t keep_count);
  LogStatus roll_locked(int64_t now_ms);
  LogStatus maybe_roll_locked(uint64_t incoming_bytes, Offset last_offset, int64_t now_ms);
  LogResult<AppendInfo> append_locked(std::span<const char> bytes,
                                      std::span<const BatchInfo> batches, int64_t now_ms);
  // `why` names the cause in the log line (retention, DeleteRecords).
  LogStatus delete_oldest_segments_locked(size_t count, const char* why);
  LogStatus write_file_atomically(const std::string& name, const std::string& contents);
  LogStatus write_file_atomically_in(const std::string& dir, const std::string& name,
                                     const std::string& contents);
  // Writes partition.checkpoint with values taken when truncations_ was
  // `truncations`, lowered first if a truncation has overtaken them.
  LogStatus write_checkpoint_locked(format::PartitionCheckpoint checkpoint, uint64_t truncations);
  LogStatus fail_locked(LogError code, const std::string& message);
  // An append refused by the disk and undone (kWriteFailed); the log stays open.
  LogStatus write_failed_locked(const std::string& message);
  Segment& active() const {
    DMQ_ASSERT(!segments_.empty());
    return *segments_.back();
  }
  // The log end offset; also valid in the failed state, where segments_ may be empty.
  Offset end_offset_locked() const {
    return segments_.empty() ? log_start_offset_ : segments_.back()->next_offset();
  }
  size_t segment_index_for(Offset offset) const;  // last segment with base <= offset

  FileEnv& env_;
  const std::string dir_;
  PartitionLogConfig config_;  // guarded by mu_

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Segment>> segments_;  // by base offset; never empty once open
  Offset log_start_offset_;
  Offset durable_end_offset_;
  Offset checkpointed_recovery_point_;  // as on disk in partition.checkpoint
  Offset checkpointed_high_watermark_;
  std::optional<int64_t> roll_anchor_ms_;  // when the active segment got its first batch
  uint64_t truncations_ = 0;  // bumped by truncate_to; a flush racing it must not raise durability
  Offset truncation_floor_{
      INT64_MAX};           // lowest end a truncation left since checkpoint()'s snapshot
  bool dir_dirty_ = false;  // segment files created or deleted since the last dir sync
  LeaderEpochCache epochs_;
  bool epochs_dirty_ = false;
  std::optional<LogStatus> failure_;
  bool write_failing_ = false;  // the last append was refused by the disk (logged once)
  std::mutex flush_mu_;  // one flush at a time: a second must not trust flags the first cleared
  std::mutex checkpoint_mu_;  // one partition.checkpoint writer at a time (shared temp file)
  // Cleaning.
  std::atomic<int64_t> noted_high_watermark_{0};
  Offset cleaner_checkpoint_;             // first dirty offset; guarded by mu_
  int64_t next_tombstone_expiry_ms_ = 0;  // a kept tombstone expires then; guarded by mu_
  std::optional<Offset> swap_pending_;    // base of the segment being swapped; guarded by mu_
  bool swap_cancelled_ = false;           // a truncation overtook swap_pending_
  std::mutex clean_mu_;                   // one pass at a time
};

}  // namespace dmq::store
