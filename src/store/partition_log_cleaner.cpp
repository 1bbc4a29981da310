// PartitionLog::clean: one pass of the log cleaner (CLEANER.md): plan under
// the lock, index the dirty section's keys and rewrite closed segments
// without it, swap each rewritten segment in under a committed marker.
#include <algorithm>
#include <climits>
#include <unordered_map>

#include "common/log.h"
#include "store/partition_log.h"

namespace dmq::store {

struct PartitionLog::CleanPlan {
  struct Seg {
    Offset base;
    Offset end;  // the successor's base: the offsets this segment covers end there
    std::shared_ptr<File> file;
    uint64_t size = 0;
  };
  std::vector<Seg> segs;  // closed segments below the cleanable limit, oldest first
  Offset first_dirty;     // keys are indexed from here...
  Offset upto;            // ...up to here; segments starting below it are rewritten
  uint64_t truncations = 0;
  PartitionLogConfig config;
  std::unordered_map<int64_t, Offset> producer_last;  // producer id -> base of its last batch
};

struct PartitionLog::SegmentClean {
  std::unique_ptr<Segment> out;  // the copy, in the cleaning directory
  bool changed = false;
  int64_t tombstone_expiry_ms = INT64_MAX;  // when the earliest kept tombstone may go
};

namespace {

constexpr uint64_t kReadChunkBytes = 1 << 20;
constexpr uint64_t kWriteChunkBytes = 1 << 20;

// Walks the whole batches of a closed segment file, reading it in chunks.
class BatchReader {
 public:
  BatchReader(const File& file, uint64_t size) : file_(file), size_(size) {}
  // False at the end or on an error (status()).
  bool next(std::string_view* batch, format::BatchHeader* header) {
    if (position_ >= size_ || !status_.ok()) return false;
    if (!fill(batch_layout::kHeaderSize)) return false;
    auto h = format::parse_batch_header(view(batch_layout::kHeaderSize));
    if (!h || h->total_bytes > size_ - position_) {
      status_ =
          IoStatus::error(IoCode::kInvalid, "bad batch at position " + std::to_string(position_));
      return false;
    }
    if (!fill(h->total_bytes)) return false;
    *batch = view(h->total_bytes);
    *header = *h;
    position_ += h->total_bytes;
    return true;
  }
  const IoStatus& status() const { return status_; }

 private:
  std::string_view view(uint64_t n) const {
    return std::string_view(buf_).substr(position_ - buf_start_, n);
  }
  bool fill(uint64_t need) {
    if (position_ >= buf_start_ && position_ + need <= buf_start_ + buf_.size()) return true;
    buf_start_ = position_;
    buf_.resize(std::min(std::max(need, kReadChunkBytes), size_ - position_));
    size_t n = 0;
    status_ = file_.read_at(position_, buf_, &n);
    if (status_.ok() && n < need) status_ = IoStatus::error(IoCode::kIoError, "short read");
    buf_.resize(n);
    return status_.ok();
  }
  const File& file_;
  const uint64_t size_;
  uint64_t position_ = 0;
  uint64_t buf_start_ = 0;
  std::string buf_;
  IoStatus status_;
};

}  // namespace

Offset PartitionLog::first_dirty_offset() const {
  std::lock_guard lock(mu_);
  return std::max(cleaner_checkpoint_, log_start_offset_);
}

LogResult<CleanStats> PartitionLog::clean(const RecordCodec& codec, OffsetMap& map,
                                          int64_t now_ms) {
  std::lock_guard pass_lock(clean_mu_);
  CleanStats stats;
  bool stale_checkpoint = false;
  {
    std::lock_guard lock(mu_);
    if (failure_ || !config_.cleanup_compact) return stats;
    stale_checkpoint = checkpointed_recovery_point_ < durable_end_offset_;
  }
  // Only segments below the recovery point on disk are cleaned: move it up
  // first rather than wait for the broker's next housekeeping round.
  if (stale_checkpoint) {
    if (LogStatus s = checkpoint(Offset(noted_high_watermark_.load())); !s.ok()) return s;
  }
  std::optional<CleanPlan> plan = plan_clean(now_ms);
  if (!plan) return stats;
  stats.passes = 1;
  map.clear();
  if (LogStatus s = index_dirty_keys(codec, map, *plan, stats); !s.ok()) return s;
  int64_t expiry = INT64_MAX;
  for (size_t i = 0; i < plan->segs.size() && plan->segs[i].base < plan->upto; ++i) {
    SegmentClean cleaned;
    LogStatus s = write_cleaned(codec, map, *plan, i, now_ms, cleaned, stats);
    if (s.ok() && cleaned.changed) s = swap_cleaned(*plan, i, cleaned, stats);
    if (cleaned.out) abandon_swap(cleaned, false);  // unchanged, or not swapped
    if (!s.ok()) return s;
    expiry = std::min(expiry, cleaned.tombstone_expiry_ms);
  }
  finish_pass(*plan, expiry);
  return stats;
}

std::optional<PartitionLog::CleanPlan> PartitionLog::plan_clean(int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (failure_ || !config_.cleanup_compact) return std::nullopt;
  // Never at or above the high watermark (a truncation could still remove
  // the newer value of a key whose older one would be gone), nor above the
  // recovery point on disk (recovery trusts cleaned segments' gaps only there).
  const Offset limit = std::min(Offset(noted_high_watermark_.load(std::memory_order_relaxed)),
                                checkpointed_recovery_point_);
  CleanPlan plan;
  plan.config = config_;
  plan.truncations = truncations_;
  plan.first_dirty = std::max(cleaner_checkpoint_, log_start_offset_);
  uint64_t dirty = 0;
  uint64_t total = 0;
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    const Segment& seg = *segments_[i];
    const Offset end = segments_[i + 1]->base_offset();
    if (end > limit) break;
    const int64_t max_ts = seg.max_timestamp_ms();
    if (config_.min_compaction_lag_ms > 0 && max_ts >= 0 &&
        now_ms - max_ts < config_.min_compaction_lag_ms) {
      break;  // min.compaction.lag.ms: this and later records stay readable as written
    }
    plan.segs.push_back({seg.base_offset(), end, seg.log_file(), seg.size_bytes()});
    total += seg.size_bytes();
    if (end > plan.first_dirty) dirty += seg.size_bytes();
  }
  if (plan.segs.empty()) return std::nullopt;
  const bool tombstones_due = next_tombstone_expiry_ms_ > 0 && now_ms >= next_tombstone_expiry_ms_;
  const double ratio = total ? static_cast<double>(dirty) / static_cast<double>(total) : 0;
  if (!(dirty > 0 && ratio >= config_.min_cleanable_dirty_ratio) && !tombstones_due) {
    return std::nullopt;
  }
  plan.upto = plan.segs.back().end;
  return plan;
}

LogStatus PartitionLog::index_dirty_keys(const RecordCodec& codec, OffsetMap& map, CleanPlan& plan,
                                         CleanStats& stats) {
  bool map_full = false;
  for (const auto& seg : plan.segs) {
    BatchReader reader(*seg.file, seg.size);
    std::string_view batch;
    format::BatchHeader h;
    while (reader.next(&batch, &h)) {
      // Every batch counts for producer state, dirty or not (Kafka keeps the
      // last batch of each producer so its sequence and epoch survive).
      if (int64_t pid = format::batch_producer_id(batch); pid >= 0) {
        plan.producer_last[pid] = h.base_offset;
      }
      if (map_full || h.last_offset() < plan.first_dirty || format::batch_is_control(batch)) {
        continue;
      }
      stats.bytes_read += h.total_bytes;
      const auto records = static_cast<size_t>(std::max(0, format::batch_record_count(batch)));
      if (map.size() + records > map.max_keys()) {
        if (map.size() == 0) {
          return {LogError::kCorruptState, "log.cleaner.dedupe.buffer.size holds " +
                                               std::to_string(map.max_keys()) +
                                               " keys, fewer than the batch at offset " +
                                               std::to_string(h.base_offset.value)};
        }
        // The rest waits for the next pass: records from here on are kept
        // this time (none of their keys is in the map with a higher offset).
        plan.upto = h.base_offset;
        stats.more = map_full = true;
        continue;
      }
      std::string error;
      auto index = [&](const CleanerRecord& r) {
        if (r.key) map.put(*r.key, r.offset);
      };
      if (!codec.for_each_record(batch, index, &error)) {
        // Not indexed: its records stay, and older ones of its keys may go
        // only for a newer record that was indexed.
        LOG_WARN("store") << dir_ << ": cleaner cannot read batch at offset " << h.base_offset.value
                          << ": " << error;
      }
    }
    if (!reader.status().ok()) {
      return {LogError::kCorruptState, "cleaning " + dir_ + ": " + reader.status().message};
    }
  }
  return {};
}

LogStatus PartitionLog::write_cleaned(const RecordCodec& codec, const OffsetMap& map,
                                      const CleanPlan& plan, size_t index, int64_t now_ms,
                                      SegmentClean& out, CleanStats& stats) {
  const auto& seg = plan.segs[index];
  if (IoStatus s = env_.create_dirs(cleaning_dir()); !s.ok()) {
    return {LogError::kStorageFailed, s.message};
  }
  if (IoStatus s = Segment::open(env_, cleaning_dir(), seg.base, true, &out.out); !s.ok()) {
    return {LogError::kStorageFailed, s.message};
  }
  std::string pending;
  std::vector<BatchInfo> infos;
  auto write = [&]() -> IoStatus {
    if (infos.empty()) return IoStatus::success();
    bool undone = false;  // the cleaned copy is thrown away on any error anyway
    IoStatus s = out.out->append(pending, infos, plan.config.index_interval_bytes, &undone);
    stats.bytes_written += pending.size();
    pending.clear();
    infos.clear();
    return s;
  };
  BatchReader reader(*seg.file, seg.size);
  std::string_view batch;
  format::BatchHeader h;
  while (reader.next(&batch, &h)) {
    stats.bytes_read += h.total_bytes;
    std::string rebuilt;
    std::string_view kept = batch;
    const int32_t count = format::batch_record_count(batch);
    int32_t kept_count = count;
    auto keep = [&](const CleanerRecord& r) {
      if (!r.key) return false;  // a compacted log has no place for them (Kafka drops them too)
      std::optional<Offset> latest = map.get(*r.key);
      if (latest && r.offset < *latest) return false;
      if (r.tombstone && h.max_timestamp_ms >= 0) {
        // delete.retention.ms, counted from the tombstone's timestamp, gives
        // consumers that time to see the delete before it goes.
        const int64_t expires = h.max_timestamp_ms + plan.config.delete_retention_ms;
        if (now_ms >= expires) return false;
        out.tombstone_expiry_ms = std::min(out.tombstone_expiry_ms, expires);
      }
      return true;
    };
    std::string error;
    if (format::batch_is_control(batch)) {
      // Transaction markers stay (Kafka removes them only with their transaction's data).
    } else if (count > 0 && !codec.filter(batch, keep, &rebuilt, &kept_count, &error)) {
      kept_count = count;  // undecodable: kept as it is
    } else if (kept_count != count || count == 0) {
      const int64_t pid = format::batch_producer_id(batch);
      const bool producer_last = pid >= 0 && plan.producer_last.at(pid) == h.base_offset;
      if (kept_count == 0) rebuilt = producer_last ? format::empty_batch_like(batch) : "";
      kept = rebuilt;
      out.changed = out.changed || kept.size() != batch.size();
      stats.records_removed += static_cast<uint64_t>(count - kept_count);
    }
    if (kept.empty()) continue;
    pending.append(kept);
    infos.push_back({h.base_offset, h.last_offset(), h.max_timestamp_ms, h.leader_epoch,
                     static_cast<uint32_t>(kept.size())});
    if (pending.size() >= kWriteChunkBytes) {
      if (IoStatus s = write(); !s.ok()) return {LogError::kStorageFailed, s.message};
    }
  }
  if (!reader.status().ok()) {
    return {LogError::kCorruptState, "cleaning " + dir_ + ": " + reader.status().message};
  }
  if (IoStatus s = write(); !s.ok()) return {LogError::kStorageFailed, s.message};
  return {};
}

size_t PartitionLog::find_segment_locked(const std::shared_ptr<File>& log_file) const {
  for (size_t j = 0; j < segments_.size(); ++j) {
    if (segments_[j]->log_file() == log_file) return j;
  }
  return segments_.size();
}

LogStatus PartitionLog::swap_cleaned(const CleanPlan& plan, size_t index, SegmentClean& cleaned,
                                     CleanStats& stats) {
  const auto& seg = plan.segs[index];
  const bool remove = cleaned.out->empty() && index > 0;
  // 1. The copy is durable before anything refers to it.
  for (IoStatus s : {cleaned.out->seal(), cleaned.out->log_file()->sync(),
                     cleaned.out->offset_index_file()->sync(),
                     cleaned.out->time_index_file()->sync(), env_.sync_dir(cleaning_dir())}) {
    if (!s.ok()) return {LogError::kStorageFailed, s.message};
  }
  // 2. Claim the segment: retention leaves it alone and a truncation
  // withdraws the marker from now on.
  {
    std::lock_guard lock(mu_);
    if (failure_ || truncations_ != plan.truncations ||
        find_segment_locked(seg.file) == segments_.size()) {
      return {};  // changed under the pass: the next pass sees the new state
    }
    swap_pending_ = seg.base;
    swap_cancelled_ = false;
  }
  // 3. The commit point: from here a crash finishes the swap at recovery.
  const std::string marker =
      std::string(remove ? "delete " : "swap ") + std::to_string(seg.base.value) + "\n";
  if (LogStatus s =
          write_file_atomically_in(cleaning_dir(), std::string(format::kSwapMarkerName), marker);
      !s.ok()) {
    std::lock_guard lock(mu_);
    swap_pending_.reset();
    return s;
  }
  // 4. Apply it: renames and unlinks only, under the lock, so readers see
  // the old segment or the new one, never a mix (a reader holding the old
  // file keeps reading it).
  {
    std::lock_guard lock(mu_);
    const size_t j = find_segment_locked(seg.file);
    const bool cancelled = swap_cancelled_ || failure_ || j == segments_.size();
    swap_pending_.reset();
    if (cancelled) {
      abandon_swap(cleaned, true);
      return {};
    }
    if (LogStatus s = swap_locked(j, remove); !s.ok()) return s;
  }
  cleaned.out.reset();
  stats.segments_swapped += remove ? 0 : 1;
  stats.segments_deleted += remove ? 1 : 0;
  // 5. Make the new names durable, then retire the marker.
  if (IoStatus s = env_.sync_dir(dir_); !s.ok()) {
    std::lock_guard lock(mu_);
    return fail_locked(LogError::kStorageFailed, s.message);
  }
  env_.remove(cleaning_dir() + "/" + std::string(format::kSwapMarkerName));
  (void)env_.sync_dir(cleaning_dir());  // a marker that comes back is finished again, harmlessly
  return {};
}

LogStatus PartitionLog::swap_locked(size_t j, bool remove) {
  DMQ_ASSERT(j + 1 < segments_.size());  // never the active segment
  const Offset base = segments_[j]->base_offset();
  const Offset end = segments_[j + 1]->base_offset();
  auto fail = [&](const IoStatus& s) {
    return fail_locked(LogError::kStorageFailed, "cleaner swap: " + s.message);
  };
  dir_dirty_ = true;
  if (remove) {
    if (IoStatus s = segments_[j]->remove_files(env_); !s.ok()) return fail(s);
    segments_.erase(segments_.begin() + static_cast<ptrdiff_t>(j));
    segments_[j - 1]->extend_to(end);  // the predecessor now covers the gap
    return {};
  }
  const std::string cleaning = cleaning_dir();
  // Old indexes go first: a crash leaves either no index (rebuilt) or the
  // new one next to the new log, never an old index beside the new log.
  for (auto suffix : {format::kIndexSuffix, format::kTimeIndexSuffix}) {
    env_.remove(segment_path(dir_, base, suffix));
  }
  for (auto suffix : {format::kIndexSuffix, format::kTimeIndexSuffix, format::kLogSuffix}) {
    if (IoStatus s =
            env_.rename(segment_path(cleaning, base, suffix), segment_path(dir_, base, suffix));
        !s.ok()) {
      return fail(s);
    }
  }
  std::unique_ptr<Segment> fresh;
  if (IoStatus s = Segment::open(env_, dir_, base, false, &fresh); !s.ok()) return fail(s);
  bool consistent = false;
  if (IoStatus s = fresh->load_indexes(&consistent); !s.ok()) return fail(s);
  if (!consistent || !fresh->adopt_sealed_state(end)) {
    uint64_t truncated = 0;
    if (IoStatus s =
            fresh->recover_from({base, 0}, config_.index_interval_bytes, nullptr, &truncated);
        !s.ok()) {
      return fail(s);
    }
    fresh->extend_to(end);
  }
  segments_[j] = std::move(fresh);
  return {};
}

void PartitionLog::abandon_swap(SegmentClean& cleaned, bool marker_written) {
  if (cleaned.out) {
    (void)cleaned.out->remove_files(env_);
    cleaned.out.reset();
  }
  // An unsynced removal of the copy alone is harmless: recovery drops copies
  // that no marker names. A withdrawn marker must not come back.
  if (marker_written) {
    env_.remove(cleaning_dir() + "/" + std::string(format::kSwapMarkerName));
    (void)env_.sync_dir(cleaning_dir());
  }
}

void PartitionLog::finish_pass(const CleanPlan& plan, int64_t tombstone_expiry_ms) {
  Offset checkpoint;
  {
    std::lock_guard lock(mu_);
    if (plan.truncations != truncations_) return;  // the plan's offsets may be gone
    cleaner_checkpoint_ = std::max(cleaner_checkpoint_, plan.upto);
    checkpoint = cleaner_checkpoint_;
    next_tombstone_expiry_ms_ = tombstone_expiry_ms == INT64_MAX ? 0 : tombstone_expiry_ms;
  }
  // Lost, it only costs a pass over the whole log after a restart.
  LogStatus s = write_file_atomically(std::string(format::kCleanerCheckpointName),
                                      std::to_string(checkpoint.value) + "\n");
  if (!s.ok()) {
    LOG_WARN("store") << dir_ << ": cleaner checkpoint not written: " << s.message;
  }
}

}  // namespace dmq::store
