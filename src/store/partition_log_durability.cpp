// PartitionLog: flush, checkpoints, truncation, retention, leader epochs.
#include <algorithm>

#include "common/log.h"
#include "store/partition_log.h"

namespace dmq::store {

LogResult<Offset> PartitionLog::flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::vector<std::shared_ptr<File>> files;
  Offset target;
  uint64_t truncations = 0;
  bool sync_dir = false;
  std::optional<std::string> epochs;
  {
    std::lock_guard lock(mu_);
    if (failure_) return *failure_;
    target = active().next_offset();
    truncations = truncations_;
    for (auto& seg : segments_) {
      if (seg->data_dirty) files.push_back(seg->log_file());
      seg->data_dirty = false;
    }
    sync_dir = std::exchange(dir_dirty_, false);
    if (std::exchange(epochs_dirty_, false)) epochs = epochs_.encode();
  }
  // The lock is released: appends continue into the page cache while we
  // sync. Everything below `target` was written before the snapshot, so these
  // syncs cover it (one fsync shared by every batch that arrived meanwhile).
  for (const auto& file : files) {
    if (IoStatus s = file->sync(); !s.ok()) {
      std::lock_guard lock(mu_);
      return fail_locked(LogError::kStorageFailed, s.message);
    }
  }
  // New segment files exist durably only once the directory is synced.
  if (sync_dir) {
    if (IoStatus s = env_.sync_dir(dir_); !s.ok()) {
      std::lock_guard lock(mu_);
      return fail_locked(LogError::kStorageFailed, s.message);
    }
  }
  if (epochs) {
    if (LogStatus s = write_file_atomically(std::string(format::kEpochCheckpointName), *epochs);
        !s.ok()) {
      // No room for the small epoch file: the data is synced, but the
      // durable end stays where it was (nothing new is acknowledged) and
      // the next flush writes the file again. The old file is intact
      // (temp + rename), so this is not fsyncgate's lost-pages case.
      std::lock_guard lock(mu_);
      epochs_dirty_ = true;
      return write_failed_locked(s.message);
    }
  }
  std::lock_guard lock(mu_);
  if (truncations == truncations_) durable_end_offset_ = std::max(durable_end_offset_, target);
  return durable_end_offset_;
}

LogStatus PartitionLog::write_file_atomically(const std::string& name,
                                              const std::string& contents) {
  return write_file_atomically_in(dir_, name, contents);
}

LogStatus PartitionLog::write_file_atomically_in(const std::string& dir, const std::string& name,
                                                 const std::string& contents) {
  std::string path = dir + "/" + name;
  std::string temp = path + std::string(format::kTempSuffix);
  std::unique_ptr<File> file;
  IoStatus s = env_.open(temp, true, &file);
  if (s.ok()) s = file->truncate(0);
  if (s.ok()) s = file->write_at(0, contents);
  if (s.ok()) s = file->sync();
  file.reset();
  if (s.ok()) s = env_.rename(temp, path);
  if (s.ok()) s = env_.sync_dir(dir);
  if (!s.ok()) return {LogError::kStorageFailed, s.message};
  return {};
}

LogStatus PartitionLog::write_checkpoint_locked(format::PartitionCheckpoint checkpoint,
                                                uint64_t truncations) {
  // Requires checkpoint_mu_. The values were taken under the lock, the write
  // happens outside it: a truncation in between would leave a high watermark
  // or recovery point on disk vouching for bytes that are gone (and, after a
  // crash, for whatever was appended there since). So the truncation count
  // is checked before the write and after it; a truncation that overtook it
  // means write again with values lowered to the lowest log end a truncation
  // left since they were taken.
  for (int attempt = 0;; ++attempt) {
    {
      std::lock_guard lock(mu_);
      if (failure_) return *failure_;
      if (truncations != truncations_) {
        checkpoint.high_watermark = std::min(checkpoint.high_watermark, truncation_floor_);
        checkpoint.log_start_offset = log_start_offset_;
        checkpoint.recovery_point =
            std::min({checkpoint.recovery_point, truncation_floor_, durable_end_offset_});
        truncations = truncations_;
      }
    }
    LogStatus s = write_file_atomically(std::string(format::kPartitionCheckpointName),
                                        format::encode_partition_checkpoint(checkpoint));
    if (!s.ok()) return s;
    std::lock_guard lock(mu_);
    if (truncations == truncations_ || attempt == 8) {
      checkpointed_recovery_point_ = checkpoint.recovery_point;
      checkpointed_high_watermark_ = checkpoint.high_watermark;
      return {};
    }
  }
}

LogStatus PartitionLog::checkpoint(Offset high_watermark) {
  // One checkpoint at a time from its snapshot to its write, so the
  // truncation floor reset here belongs to this write.
  std::lock_guard checkpoint_lock(checkpoint_mu_);
  format::PartitionCheckpoint c;
  std::vector<std::shared_ptr<File>> index_files;
  uint64_t truncations = 0;
  {
    std::lock_guard lock(mu_);
    if (failure_) return *failure_;
    truncations = truncations_;
    truncation_floor_ = Offset(INT64_MAX);
    c.high_watermark = std::min(high_watermark, active().next_offset());
    c.log_start_offset = log_start_offset_;
    c.recovery_point = durable_end_offset_;
    for (auto& seg : segments_) {
      if (!std::exchange(seg->index_dirty, false)) continue;
      index_files.push_back(seg->offset_index_file());
      index_files.push_back(seg->time_index_file());
    }
  }
  // Recovery trusts the indexes below the recovery point, so they must be on
  // disk before the checkpoint that names it.
  for (const auto& file : index_files) {
    if (IoStatus s = file->sync(); !s.ok()) {
      std::lock_guard lock(mu_);
      return fail_locked(LogError::kStorageFailed, s.message);
    }
  }
  return write_checkpoint_locked(c, truncations);
}

LogStatus PartitionLog::truncate_to(Offset offset) {
  format::PartitionCheckpoint lowered;
  std::shared_ptr<File> active_log;
  uint64_t truncations = 0;
  bool cancelled_swap = false;
  {
    std::lock_guard lock(mu_);
    if (failure_) return *failure_;
    if (offset >= active().next_offset()) return {};
    truncations = ++truncations_;
    cleaner_checkpoint_ = std::min(cleaner_checkpoint_, offset);
    if (swap_pending_ && !swap_cancelled_) {
      // A cleaner's swap is committed on disk but not applied: after a crash
      // recovery would roll it forward over what this truncation removes.
      // Withdraw its marker; the cleaner sees the flag and drops its copy.
      swap_cancelled_ = cancelled_swap = true;
      env_.remove(cleaning_dir() + "/" + std::string(format::kSwapMarkerName));
    }
    if (offset <= log_start_offset_) {
      // Kafka's truncateFullyAndStartAt: the replica restarts empty at `offset`.
      if (LogStatus s = drop_segments_after_locked(0); !s.ok()) return s;
      std::unique_ptr<Segment> seg;
      if (IoStatus s = Segment::open(env_, dir_, offset, true, &seg); !s.ok()) {
        return fail_locked(LogError::kStorageFailed, s.message);
      }
      segments_.push_back(std::move(seg));
      log_start_offset_ = offset;
    } else {
      size_t i = segment_index_for(offset);
      if (LogStatus s = drop_segments_after_locked(i + 1); !s.ok()) return s;
      if (IoStatus s = active().truncate_to(offset, config_.index_interval_bytes); !s.ok()) {
        return fail_locked(LogError::kStorageFailed, s.message);
      }
    }
    Offset end = active().next_offset();
    truncation_floor_ = std::min(truncation_floor_, end);
    durable_end_offset_ = std::min(durable_end_offset_, end);
    if (epochs_.truncate_from_end(end)) epochs_dirty_ = true;
    if (epochs_.truncate_from_start(log_start_offset_)) epochs_dirty_ = true;
    if (active().empty()) roll_anchor_ms_.reset();
    LOG_INFO("store") << "truncated " << dir_ << " to " << end.value;
    if (end >= checkpointed_recovery_point_ && !cancelled_swap) return {};
    // The checkpoint on disk vouches for bytes that are gone; after a crash,
    // recovery would trust whatever is written there next without a scan.
    lowered = {std::min(checkpointed_high_watermark_, end), log_start_offset_, durable_end_offset_};
    active_log = active().log_file();
  }
  IoStatus synced = active_log->sync();
  if (synced.ok() && cancelled_swap) synced = env_.sync_dir(cleaning_dir());
  if (!synced.ok()) {
    std::lock_guard lock(mu_);
    return fail_locked(LogError::kStorageFailed, synced.message);
  }
  std::lock_guard checkpoint_lock(checkpoint_mu_);
  return write_checkpoint_locked(lowered, truncations);
}

LogStatus PartitionLog::drop_segments_after_locked(size_t keep_count) {
  IoStatus first_error;
  while (segments_.size() > keep_count) {
    IoStatus s = segments_.back()->remove_files(env_);
    if (!s.ok() && first_error.ok()) first_error = s;
    segments_.pop_back();
    dir_dirty_ = true;
  }
  if (!first_error.ok()) return fail_locked(LogError::kStorageFailed, first_error.message);
  return {};
}

LogResult<size_t> PartitionLog::maybe_apply_retention(int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  // cleanup.policy=compact alone keeps every segment; the cleaner thins them.
  if (!config_.cleanup_delete) return size_t{0};
  size_t deletable = segments_.size() - 1;  // never the active segment
  if (swap_pending_) {  // nor the segment the cleaner is swapping in (or after it)
    deletable = std::min(deletable, segment_index_for(*swap_pending_));
  }
  size_t count = 0;
  // retention.ms looks at each segment's largest timestamp, as Kafka does;
  // a segment without timestamps is never old.
  while (config_.retention_ms >= 0 && count < deletable) {
    int64_t max_ts = segments_[count]->max_timestamp_ms();
    if (max_ts < 0 || now_ms - max_ts <= config_.retention_ms) break;
    ++count;
  }
  if (config_.retention_bytes >= 0) {
    uint64_t total = 0;
    for (size_t i = count; i < segments_.size(); ++i) total += segments_[i]->size_bytes();
    while (count < deletable &&
           total - segments_[count]->size_bytes() >= uint64_t(config_.retention_bytes)) {
      total -= segments_[count]->size_bytes();
      ++count;
    }
  }
  if (count == 0) return size_t{0};
  if (LogStatus s = delete_oldest_segments_locked(count, "retention"); !s.ok()) return s;
  return count;
}

LogResult<Offset> PartitionLog::advance_log_start(Offset offset) {
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  const Offset end = segments_.empty() ? log_start_offset_ : segments_.back()->next_offset();
  const Offset target = std::min(offset, end);
  if (target <= log_start_offset_) return log_start_offset_;
  size_t deletable = segments_.size() - 1;  // never the active segment
  if (swap_pending_) deletable = std::min(deletable, segment_index_for(*swap_pending_));
  size_t count = 0;
  while (count < deletable && segments_[count + 1]->base_offset() <= target) ++count;
  if (count > 0) {
    if (LogStatus s = delete_oldest_segments_locked(count, "DeleteRecords"); !s.ok()) return s;
  }
  log_start_offset_ = std::max(log_start_offset_, target);
  if (epochs_.truncate_from_start(log_start_offset_)) epochs_dirty_ = true;
  return log_start_offset_;
}

LogStatus PartitionLog::delete_oldest_segments_locked(size_t count, const char* why) {
  DMQ_ASSERT(count < segments_.size());
  IoStatus first_error;
  for (size_t i = 0; i < count; ++i) {
    // Readers holding a FileSlice keep the fd; unlinking is safe under them.
    IoStatus s = segments_[i]->remove_files(env_);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(count));
  dir_dirty_ = true;
  log_start_offset_ = std::max(log_start_offset_, segments_.front()->base_offset());
  if (epochs_.truncate_from_start(log_start_offset_)) epochs_dirty_ = true;
  LOG_INFO("store") << why << " deleted " << count << " segments of " << dir_
                    << ", log start offset " << log_start_offset_.value;
  if (!first_error.ok()) return {LogError::kStorageFailed, first_error.message};
  return {};
}

LogStatus PartitionLog::remove_all() {
  std::lock_guard lock(mu_);
  LogStatus result = drop_segments_after_locked(0);
  // Checkpoints, temp files and anything else left in the replica's directory.
  std::vector<std::string> names;
  if (env_.exists(cleaning_dir()) && env_.list(cleaning_dir(), &names).ok()) {
    for (const auto& name : names) env_.remove(cleaning_dir() + "/" + name);
    env_.remove_dir(cleaning_dir());
  }
  names.clear();
  if (IoStatus s = env_.list(dir_, &names); s.ok()) {
    for (const auto& name : names) env_.remove(dir_ + "/" + name);
  }
  if (IoStatus s = env_.remove_dir(dir_); !s.ok() && result.ok()) {
    result = {LogError::kStorageFailed, s.message};
  }
  failure_ = LogStatus{LogError::kStorageFailed, "log " + dir_ + " was deleted"};
  return result;
}

void PartitionLog::assign_epoch(LeaderEpoch epoch, Offset start_offset) {
  std::lock_guard lock(mu_);
  if (epochs_.assign(epoch, start_offset)) epochs_dirty_ = true;
}

EpochEndOffset PartitionLog::end_offset_for_epoch(LeaderEpoch epoch) const {
  std::lock_guard lock(mu_);
  return epochs_.end_offset_for(epoch, end_offset_locked());
}

std::optional<LeaderEpoch> PartitionLog::latest_epoch() const {
  std::lock_guard lock(mu_);
  return epochs_.latest_epoch();
}

Offset PartitionLog::log_start_offset() const {
  std::lock_guard lock(mu_);
  return log_start_offset_;
}

Offset PartitionLog::log_end_offset() const {
  std::lock_guard lock(mu_);
  return end_offset_locked();
}

Offset PartitionLog::durable_end_offset() const {
  std::lock_guard lock(mu_);
  return durable_end_offset_;
}

Offset PartitionLog::checkpointed_high_watermark() const {
  std::lock_guard lock(mu_);
  return checkpointed_high_watermark_;
}

std::optional<LogStatus> PartitionLog::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

size_t PartitionLog::segment_count() const {
  std::lock_guard lock(mu_);
  return segments_.size();
}

uint64_t PartitionLog::size_bytes() const {
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  for (const auto& seg : segments_) total += seg->size_bytes();
  return total;
}

}  // namespace dmq::store
