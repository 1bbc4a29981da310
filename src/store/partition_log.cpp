// PartitionLog: appends, reads, roll, retention, truncation, flush and
// checkpoints. Opening and crash recovery are in partition_log_recovery.cpp.
#include "store/partition_log.h"

#include <algorithm>

#include "common/log.h"

namespace dmq::store {

const char* log_error_name(LogError error) {
  switch (error) {
    case LogError::kOk:
      return "ok";
    case LogError::kOffsetOutOfRange:
      return "offset_out_of_range";
    case LogError::kCorruptBatch:
      return "corrupt_batch";
    case LogError::kBatchTooLarge:
      return "batch_too_large";
    case LogError::kNonContiguous:
      return "non_contiguous";
    case LogError::kStorageFailed:
      return "storage_failed";
    case LogError::kWriteFailed:
      return "write_failed";
    case LogError::kCorruptState:
      return "corrupt_state";
    case LogError::kTruncated:
      return "truncated";
    case LogError::kShuttingDown:
      return "shutting_down";
  }
  return "unknown";
}

namespace {

// Splits caller bytes into whole v2 batches by their framing. The caller has
// validated CRCs; this only guards the log against bytes it cannot walk.
LogStatus frame_batches(std::string_view bytes, std::vector<BatchInfo>* out) {
  if (bytes.empty()) return {LogError::kCorruptBatch, "no batches"};
  uint64_t position = 0;
  while (position < bytes.size()) {
    auto h = format::parse_batch_header(bytes.substr(position));
    if (!h) return {LogError::kCorruptBatch, "bad batch header at " + std::to_string(position)};
    if (h->total_bytes > bytes.size() - position) {
      return {LogError::kCorruptBatch, "batch at " + std::to_string(position) + " is cut short"};
    }
    out->push_back(
        {h->base_offset, h->last_offset(), h->max_timestamp_ms, h->leader_epoch, h->total_bytes});
    position += h->total_bytes;
  }
  return {};
}

}  // namespace

PartitionLog::PartitionLog(FileEnv& env, std::string dir, const PartitionLogConfig& config)
    : env_(env), dir_(std::move(dir)), config_(config) {}

PartitionLog::~PartitionLog() = default;

void PartitionLog::set_config(const PartitionLogConfig& config) {
  DMQ_ASSERT(config.segment_bytes > 0);
  DMQ_ASSERT(config.segment_bytes <= (uint64_t{1} << 31));
  DMQ_ASSERT(config.index_interval_bytes > 0);
  std::lock_guard lock(mu_);
  config_ = config;
}

PartitionLogConfig PartitionLog::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

LogStatus PartitionLog::fail_locked(LogError code, const std::string& message) {
  if (!failure_) {
    LOG_ERROR("store") << "partition log " << dir_ << " closed: " << message;
    failure_ = LogStatus{code, message};
  }
  return *failure_;
}

LogStatus PartitionLog::write_failed_locked(const std::string& message) {
  // Once per streak of failures: a producer retrying against a full disk
  // must not fill the node's log as well.
  if (!write_failing_) {
    LOG_ERROR("store") << "partition log " << dir_ << " refused a write (undone): " << message
                       << "; appends are refused until one succeeds";
    write_failing_ = true;
  }
  return LogStatus{LogError::kWriteFailed, message};
}

size_t PartitionLog::segment_index_for(Offset offset) const {
  auto it = std::upper_bound(
      segments_.begin(), segments_.end(), offset,
      [](Offset o, const std::unique_ptr<Segment>& s) { return o < s->base_offset(); });
  return it == segments_.begin() ? 0 : static_cast<size_t>(it - segments_.begin()) - 1;
}

LogResult<AppendInfo> PartitionLog::append(std::span<char> batches, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  std::vector<BatchInfo> infos;
  std::string_view bytes(batches.data(), batches.size());
  if (LogStatus s = frame_batches(bytes, &infos); !s.ok()) return s;
  // Offsets are assigned by patching baseOffset in the caller's buffer: the
  // CRC covers only bytes from attributes on, so it stays valid (KIP-98).
  Offset next = active().next_offset();
  uint64_t position = 0;
  for (BatchInfo& info : infos) {
    format::put_be64(batches.data() + position, static_cast<uint64_t>(next.value));
    int64_t delta = info.last_offset.value - info.base_offset.value;
    info.base_offset = next;
    info.last_offset = Offset(next.value + delta);
    next = info.last_offset.next();
    position += info.bytes;
  }
  return append_locked(bytes, infos, now_ms);
}

LogResult<AppendInfo> PartitionLog::append_batch(std::span<char> batch, BatchInfo framing,
                                                 int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  DMQ_ASSERT(framing.bytes == batch.size());
  DMQ_ASSERT(framing.last_offset >= framing.base_offset);
  const Offset base = active().next_offset();
  format::put_be64(batch.data(), static_cast<uint64_t>(base.value));
  framing.last_offset =
      Offset(base.value + (framing.last_offset.value - framing.base_offset.value));
  framing.base_offset = base;
  return append_locked(std::string_view(batch.data(), batch.size()), std::span(&framing, 1),
                       now_ms);
}

LogResult<AppendInfo> PartitionLog::append_as_follower(std::span<const char> batches,
                                                       int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  std::vector<BatchInfo> infos;
  std::string_view bytes(batches.data(), batches.size());
  if (LogStatus s = frame_batches(bytes, &infos); !s.ok()) return s;
  // A leader's compacted segments have gaps (CLEANER.md): offsets must grow,
  // not follow each other exactly, as in Kafka's follower append.
  if (infos.front().base_offset < active().next_offset()) {
    return LogStatus{LogError::kNonContiguous,
                     "batch starts at " + std::to_string(infos.front().base_offset.value) +
                         ", log ends at " + std::to_string(active().next_offset().value)};
  }
  for (size_t i = 1; i < infos.size(); ++i) {
    if (infos[i].base_offset <= infos[i - 1].last_offset) {
      return LogStatus{LogError::kCorruptBatch, "batch offsets go backwards"};
    }
  }
  // Replicated bytes come off the network: a corrupt batch must not enter
  // this replica's log (Kafka's follower validates CRCs too).
  uint64_t position = 0;
  for (const BatchInfo& info : infos) {
    if (!format::batch_crc_ok(bytes.substr(position, info.bytes))) {
      return LogStatus{LogError::kCorruptBatch,
                       "CRC mismatch in batch at offset " + std::to_string(info.base_offset.value)};
    }
    position += info.bytes;
  }
  return append_locked(bytes, infos, now_ms);
}

LogResult<AppendInfo> PartitionLog::append_locked(std::span<const char> bytes,
                                                  std::span<const BatchInfo> batches,
                                                  int64_t now_ms) {
  if (bytes.size() > config_.segment_bytes) {
    return LogStatus{LogError::kBatchTooLarge, std::to_string(bytes.size()) +
                                                   " bytes exceed segment.bytes " +
                                                   std::to_string(config_.segment_bytes)};
  }
  if (LogStatus s = maybe_roll_locked(bytes.size(), batches.back().last_offset, now_ms); !s.ok()) {
    return s;
  }
  if (!roll_anchor_ms_) roll_anchor_ms_ = now_ms;
  bool undone = false;
  IoStatus io = active().append(std::string_view(bytes.data(), bytes.size()), batches,
                                config_.index_interval_bytes, &undone);
  if (!io.ok() && undone) {
    // Nothing of these batches is left in the files: refuse this append only.
    // The disk may have room again for the next one (Kafka would take the
    // whole log directory offline until a restart).
    return write_failed_locked(io.message);
  }
  // The cut-back failed too: the file holds an unknown prefix of the bytes,
  // the in-memory state no longer matches it, so the log must stop here.
  if (!io.ok()) return fail_locked(LogError::kStorageFailed, io.message);
  if (write_failing_) {
    LOG_INFO("store") << "partition log " << dir_ << " takes writes again";
    write_failing_ = false;
  }
  AppendInfo info;
  info.base_offset = batches.front().base_offset;
  info.last_offset = batches.back().last_offset;
  info.log_end_offset = active().next_offset();
  info.batch_count = batches.size();
  for (const BatchInfo& b : batches) {
    info.max_timestamp_ms = std::max(info.max_timestamp_ms, b.max_timestamp_ms);
    // The leader stamps its epoch on every batch; the first batch of a new
    // epoch marks where that epoch starts (KIP-101).
    if (b.leader_epoch >= 0 && epochs_.assign(LeaderEpoch(b.leader_epoch), b.base_offset)) {
      epochs_dirty_ = true;
    }
  }
  return info;
}

LogStatus PartitionLog::maybe_roll_locked(uint64_t incoming_bytes, Offset last_offset,
                                          int64_t now_ms) {
  const Segment& seg = active();
  if (seg.empty()) return {};
  bool full = seg.size_bytes() + incoming_bytes > config_.segment_bytes;
  bool old = roll_anchor_ms_ && now_ms - *roll_anchor_ms_ >= config_.segment_ms;
  // Index entries hold offsets relative to the base in 32 bits (as Kafka).
  bool offsets_overflow = last_offset.value - seg.base_offset().value > INT32_MAX;
  if (!full && !old && !offsets_overflow) return {};
  return roll_locked(now_ms);
}

LogStatus PartitionLog::roll_locked(int64_t now_ms) {
  // Neither step changes what the log holds: a failure (no room for the new
  // files) refuses this append and the next one tries to roll again.
  if (IoStatus s = active().seal(); !s.ok()) return write_failed_locked(s.message);
  std::unique_ptr<Segment> seg;
  if (IoStatus s = Segment::open(env_, dir_, active().next_offset(), true, &seg); !s.ok()) {
    return write_failed_locked(s.message);
  }
  LOG_DEBUG("store") << "rolled " << dir_ << " at offset " << seg->base_offset().value;
  segments_.push_back(std::move(seg));
  dir_dirty_ = true;
  roll_anchor_ms_.reset();
  return {};
}

LogResult<ReadResult> PartitionLog::read(Offset start_offset, uint64_t max_bytes,
                                         Offset max_offset) const {
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  ReadResult r;
  r.log_start_offset = log_start_offset_;
  r.log_end_offset = active().next_offset();
  r.first_offset = r.next_offset = start_offset;
  if (start_offset < r.log_start_offset || start_offset > r.log_end_offset) {
    return LogStatus{LogError::kOffsetOutOfRange,
                     "offset " + std::to_string(start_offset.value) + " outside [" +
                         std::to_string(r.log_start_offset.value) + ", " +
                         std::to_string(r.log_end_offset.value) + "]"};
  }
  if (start_offset == r.log_end_offset || start_offset >= max_offset) return r;
  size_t i = segment_index_for(start_offset);
  while (start_offset >= segments_[i]->next_offset()) ++i;  // ends before LEO, so i stays valid
  BatchLocation loc;
  while (true) {
    IoStatus s =
        segments_[i]->find_batch(std::max(start_offset, segments_[i]->base_offset()), &loc);
    if (s.ok()) break;
    if (s.code != IoCode::kNotFound) return LogStatus{LogError::kStorageFailed, s.message};
    // A gap the cleaner left at the end of a segment: the next one follows
    // (none after the active segment's gap a truncation left: nothing to read).
    if (i + 1 == segments_.size()) return r;
    ++i;
  }
  const Segment& seg = *segments_[i];
  if (loc.header.base_offset >= max_offset) return r;
  uint64_t end = 0;
  Offset next;
  if (IoStatus s = seg.extent(loc.position, max_bytes, max_offset, &end, &next); !s.ok()) {
    return LogStatus{LogError::kStorageFailed, s.message};
  }
  r.slice = FileSlice{seg.log_file(), loc.position, end - loc.position};
  r.first_offset = loc.header.base_offset;
  r.next_offset = next;
  return r;
}

IoStatus PartitionLog::read_into(const FileSlice& slice, std::string* out) {
  out->resize(slice.length);
  if (slice.length == 0) return IoStatus::success();
  size_t n = 0;
  if (IoStatus s = slice.file->read_at(slice.position, *out, &n); !s.ok()) return s;
  if (n != slice.length) return IoStatus::error(IoCode::kIoError, "slice beyond end of file");
  return IoStatus::success();
}

LogResult<std::optional<TimestampOffset>> PartitionLog::offset_for_timestamp(
    int64_t timestamp_ms) const {
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  if (timestamp_ms == kLatestTimestamp || timestamp_ms == kEarliestTimestamp) {
    Offset o = timestamp_ms == kLatestTimestamp ? end_offset_locked() : log_start_offset_;
    return std::optional<TimestampOffset>(TimestampOffset{o, -1});
  }
  if (timestamp_ms < 0) {
    return LogStatus{LogError::kCorruptBatch,
                     "unsupported timestamp " + std::to_string(timestamp_ms)};
  }
  for (const auto& seg : segments_) {
    if (seg->max_timestamp_ms() < timestamp_ms) continue;
    std::optional<BatchLocation> loc;
    if (IoStatus s = seg->find_timestamp(timestamp_ms, &loc); !s.ok()) {
      return LogStatus{LogError::kStorageFailed, s.message};
    }
    if (loc) {
      Offset offset = std::max(loc->header.base_offset, log_start_offset_);
      return std::optional<TimestampOffset>(TimestampOffset{offset, loc->header.max_timestamp_ms});
    }
  }
  return std::optional<TimestampOffset>();
}

}  // namespace dmq::store
