// PartitionLog::open: directory scan, checkpoints and crash recovery.
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "common/log.h"
#include "store/partition_log.h"

namespace dmq::store {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Reads a whole small file; *found = false when it does not exist.
IoStatus read_small_file(FileEnv& env, const std::string& path, std::string* out, bool* found) {
  std::unique_ptr<File> file;
  IoStatus s = env.open(path, false, &file);
  *found = s.code != IoCode::kNotFound;
  if (!*found) return IoStatus::success();
  if (!s.ok()) return s;
  uint64_t size = 0;
  if (s = file->size(&size); !s.ok()) return s;
  if (size > (1u << 20)) return IoStatus::error(IoCode::kInvalid, path + " is too large");
  out->resize(size);
  size_t n = 0;
  if (s = file->read_at(0, *out, &n); !s.ok()) return s;
  out->resize(n);
  return IoStatus::success();
}

}  // namespace

LogResult<std::shared_ptr<PartitionLog>> PartitionLog::open(FileEnv& env, std::string dir,
                                                            const PartitionLogConfig& config,
                                                            int64_t now_ms) {
  DMQ_ASSERT(config.segment_bytes > 0);
  DMQ_ASSERT(config.segment_bytes <= (uint64_t{1} << 31));
  DMQ_ASSERT(config.index_interval_bytes > 0);
  std::shared_ptr<PartitionLog> log(new PartitionLog(env, std::move(dir), config));
  std::lock_guard lock(log->mu_);
  if (LogStatus s = log->recover_locked(now_ms); !s.ok()) return s;
  return log;
}

LogStatus PartitionLog::recover_locked(int64_t now_ms) {
  auto storage_error = [](const IoStatus& s) {
    return LogStatus{LogError::kStorageFailed, s.message};
  };
  if (IoStatus s = env_.create_dirs(dir_); !s.ok()) return storage_error(s);
  if (LogStatus s = finish_interrupted_clean_locked(); !s.ok()) return s;
  std::vector<std::string> names;
  if (IoStatus s = env_.list(dir_, &names); !s.ok()) return storage_error(s);
  std::vector<Offset> bases;
  for (const std::string& name : names) {
    if (ends_with(name, format::kTempSuffix)) {
      env_.remove(dir_ + "/" + name);  // a checkpoint write cut short; the old file stands
    } else if (auto base = format::parse_segment_name(name, format::kLogSuffix)) {
      bases.push_back(*base);
    }
  }
  std::sort(bases.begin(), bases.end());

  format::PartitionCheckpoint checkpoint;
  std::string text;
  bool found = false;
  std::string checkpoint_path = dir_ + "/" + std::string(format::kPartitionCheckpointName);
  if (IoStatus s = read_small_file(env_, checkpoint_path, &text, &found); !s.ok()) {
    return storage_error(s);
  }
  if (found) {
    auto decoded = format::decode_partition_checkpoint(text);
    if (!decoded) return {LogError::kCorruptState, "cannot parse " + checkpoint_path};
    checkpoint = *decoded;
  }
  std::string epochs_path = dir_ + "/" + std::string(format::kEpochCheckpointName);
  if (IoStatus s = read_small_file(env_, epochs_path, &text, &found); !s.ok()) {
    return storage_error(s);
  }
  if (found) {
    auto decoded = LeaderEpochCache::decode(text);
    if (!decoded) return {LogError::kCorruptState, "cannot parse " + epochs_path};
    epochs_ = *decoded;
  }

  if (LogStatus s = load_cleaner_checkpoint_locked(); !s.ok()) return s;

  log_start_offset_ = checkpoint.log_start_offset;
  if (!bases.empty()) {
    if (LogStatus s = load_segments_locked(bases, checkpoint.recovery_point); !s.ok()) return s;
    log_start_offset_ = std::max(log_start_offset_, segments_.front()->base_offset());
  }
  if (segments_.empty() || end_offset_locked() < log_start_offset_) {
    // Nothing usable at or after the checkpointed log start: start empty there.
    if (LogStatus s = drop_segments_after_locked(0); !s.ok()) return s;
    std::unique_ptr<Segment> seg;
    if (IoStatus s = Segment::open(env_, dir_, log_start_offset_, true, &seg); !s.ok()) {
      return storage_error(s);
    }
    segments_.push_back(std::move(seg));
  }
  Offset end = active().next_offset();
  if (epochs_.truncate_from_end(end)) epochs_dirty_ = true;
  if (epochs_.truncate_from_start(log_start_offset_)) epochs_dirty_ = true;
  checkpointed_recovery_point_ = checkpoint.recovery_point;
  checkpointed_high_watermark_ = std::min(checkpoint.high_watermark, end);
  // Bytes past the recovery point may be in the page cache only (a process
  // crash, not a power loss); they count as durable after the next flush,
  // which syncs every scanned segment (marked dirty by the scan).
  durable_end_offset_ =
      std::clamp(checkpoint.recovery_point, log_start_offset_, std::max(log_start_offset_, end));
  dir_dirty_ = true;
  if (!active().empty()) roll_anchor_ms_ = now_ms;  // segment.ms restarts with the process
  LOG_INFO("store") << "opened " << dir_ << ": " << segments_.size() << " segments, offsets ["
                    << log_start_offset_.value << ", " << end.value << ")";
  return {};
}

LogStatus PartitionLog::load_segments_locked(const std::vector<Offset>& bases,
                                             Offset recovery_point) {
  for (Offset base : bases) {
    std::unique_ptr<Segment> seg;
    if (IoStatus s = Segment::open(env_, dir_, base, false, &seg); !s.ok()) {
      return {LogError::kStorageFailed, s.message};
    }
    segments_.push_back(std::move(seg));
  }
  const size_t recovery_index = segment_index_for(recovery_point);
  auto on_batch = [this](const format::BatchHeader& h) {
    if (h.leader_epoch >= 0 && epochs_.assign(LeaderEpoch(h.leader_epoch), h.base_offset)) {
      epochs_dirty_ = true;
    }
  };
  for (size_t i = 0; i < segments_.size(); ++i) {
    Segment& seg = *segments_[i];
    bool consistent = false;
    if (IoStatus s = seg.load_indexes(&consistent); !s.ok()) {
      return {LogError::kStorageFailed, s.message};
    }
    // Below the recovery point everything was synced, indexes included:
    // trust them when they fit, as Kafka does after a clean shutdown.
    if (i < recovery_index && consistent && seg.adopt_sealed_state(bases[i + 1])) continue;
    OffsetIndexEntry from{seg.base_offset(), 0};
    if (i == recovery_index && consistent) from = seg.index_entry_at_or_before(recovery_point);
    if (i >= recovery_index && epochs_.truncate_from_end(from.offset)) {
      epochs_dirty_ = true;  // re-derived below from the epochs stamped on the batches
    }
    uint64_t truncated = 0;
    if (IoStatus s = seg.recover_from(from, config_.index_interval_bytes, on_batch, &truncated);
        !s.ok()) {
      return {LogError::kStorageFailed, s.message};
    }
    seg.data_dirty = true;
    // A sealed segment's last time index entry must carry its max timestamp
    // (retention reads it after the next restart); the rescan may have dropped it.
    if (i + 1 < segments_.size()) {
      if (IoStatus s = seg.seal(); !s.ok()) return {LogError::kStorageFailed, s.message};
    }
    // Below the recovery point everything was synced, so a segment ending
    // short of its successor is one the cleaner thinned, not a torn tail.
    if (i < recovery_index && truncated == 0 && i + 1 < segments_.size()) {
      seg.extend_to(bases[i + 1]);
    }
    bool gap = i + 1 < segments_.size() && seg.next_offset() != bases[i + 1];
    if (truncated > 0 || gap) {
      // The log ends at the first bad byte; later segments cannot follow it.
      LOG_WARN("store") << dir_ << ": recovery cut segment "
                        << format::segment_stem(seg.base_offset()) << " at offset "
                        << seg.next_offset().value << " (" << truncated
                        << " bytes dropped), removing " << segments_.size() - i - 1
                        << " later segments";
      return drop_segments_after_locked(i + 1);
    }
  }
  return {};
}

LogStatus PartitionLog::load_cleaner_checkpoint_locked() {
  std::string text;
  bool found = false;
  std::string path = dir_ + "/" + std::string(format::kCleanerCheckpointName);
  if (IoStatus s = read_small_file(env_, path, &text, &found); !s.ok()) {
    return {LogError::kStorageFailed, s.message};
  }
  // Lost or garbled, it only costs a pass over the whole log: not fatal.
  int64_t first_dirty = 0;
  if (found && std::sscanf(text.c_str(), "%" SCNd64, &first_dirty) == 1 && first_dirty >= 0) {
    cleaner_checkpoint_ = Offset(first_dirty);
  }
  next_tombstone_expiry_ms_ = 1;  // unknown after a restart: look once
  return {};
}

std::string PartitionLog::cleaning_dir() const {
  return dir_ + "/" + std::string(format::kCleaningDirName);
}

LogStatus PartitionLog::finish_interrupted_clean_locked() {
  // CLEANER.md: without a marker, whatever the cleaner left is a copy never
  // committed: drop it. With one, the swap it names was committed: finish it.
  const std::string cleaning = cleaning_dir();
  if (!env_.exists(cleaning)) return {};
  auto storage_error = [](const IoStatus& s) {
    return LogStatus{LogError::kStorageFailed, s.message};
  };
  std::string marker;
  bool found = false;
  const std::string marker_path = cleaning + "/" + std::string(format::kSwapMarkerName);
  if (IoStatus s = read_small_file(env_, marker_path, &marker, &found); !s.ok()) {
    return storage_error(s);
  }
  char verb[16] = {};
  int64_t base = -1;
  if (found && std::sscanf(marker.c_str(), "%15s %" SCNd64, verb, &base) == 2 && base >= 0) {
    const Offset b(base);
    const std::string log_path = segment_path(dir_, b, format::kLogSuffix);
    const std::string cleaned = segment_path(cleaning, b, format::kLogSuffix);
    if (std::string_view(verb) == "delete") {
      env_.remove(log_path);
    } else if (env_.exists(cleaned) && env_.exists(log_path)) {
      // Roll forward only over the segment it was made from: if retention
      // or a truncation removed that, the copy must not bring it back.
      if (IoStatus s = env_.rename(cleaned, log_path); !s.ok()) return storage_error(s);
    }
    // The indexes may belong to either copy: they are rebuilt from the log.
    env_.remove(segment_path(dir_, b, format::kIndexSuffix));
    env_.remove(segment_path(dir_, b, format::kTimeIndexSuffix));
    if (IoStatus s = env_.sync_dir(dir_); !s.ok()) return storage_error(s);
    LOG_INFO("store") << dir_ << ": finished the cleaner's " << verb << " of segment "
                      << format::segment_stem(b);
  }
  std::vector<std::string> names;
  if (IoStatus s = env_.list(cleaning, &names); !s.ok()) return storage_error(s);
  for (const std::string& name : names) {
    if (name != format::kSwapMarkerName) env_.remove(cleaning + "/" + name);
  }
  env_.remove(marker_path);  // last: until now a crash redoes the above
  if (IoStatus s = env_.sync_dir(cleaning); !s.ok()) return storage_error(s);
  return {};
}

}  // namespace dmq::store
