#include "store/segment.h"

#include <algorithm>

namespace dmq::store {
namespace {

IoStatus corrupt(const std::string& what) {
  return IoStatus::error(IoCode::kInvalid, what);
}

// Positions in index entries are 32-bit (Kafka's format), so a segment can
// never grow past this; recovery treats bytes beyond it as garbage.
constexpr uint64_t kMaxSegmentPosition = UINT32_MAX;

// How many batch headers a segment keeps in memory: ~5 KiB per partition,
// enough for readers a few hundred produce requests behind.
constexpr size_t kRecentBatches = 128;

}  // namespace

std::string segment_path(const std::string& dir, Offset base, std::string_view suffix) {
  return dir + "/" + format::segment_stem(base) + std::string(suffix);
}

Segment::Segment(Offset base, std::string dir, std::shared_ptr<File> log,
                 std::shared_ptr<File> index, std::shared_ptr<File> time_index)
    : base_(base),
      dir_(std::move(dir)),
      log_(std::move(log)),
      index_(base, std::move(index)),
      time_index_(base, std::move(time_index)),
      next_offset_(base),
      max_timestamp_offset_(base) {}

IoStatus Segment::open(FileEnv& env, const std::string& dir, Offset base_offset, bool create,
                       std::unique_ptr<Segment>* out) {
  std::unique_ptr<File> files[3];
  const std::string_view suffixes[3] = {format::kLogSuffix, format::kIndexSuffix,
                                        format::kTimeIndexSuffix};
  bool indexes_missing = false;
  for (int i = 0; i < 3; ++i) {
    std::string path = segment_path(dir, base_offset, suffixes[i]);
    if (i > 0 && !env.exists(path)) indexes_missing = true;
    // Index files are derived data: a missing one is created and rebuilt.
    if (IoStatus s = env.open(path, create || i > 0, &files[i]); !s.ok()) return s;
    if (create) {
      if (IoStatus s = files[i]->truncate(0); !s.ok()) return s;
    }
  }
  std::unique_ptr<Segment> seg(
      new Segment(base_offset, dir, std::move(files[0]), std::move(files[1]), std::move(files[2])));
  if (create) {
    seg->data_dirty = seg->index_dirty = true;
  } else if (IoStatus s = seg->log_->size(&seg->size_bytes_); !s.ok()) {
    return s;
  }
  seg->indexes_missing_ = indexes_missing && !create;
  *out = std::move(seg);
  return IoStatus::success();
}

IoStatus Segment::index_batch(const BatchInfo& batch, uint64_t position,
                              uint32_t index_interval_bytes) {
  // Kafka's rule (LogSegment.append): an entry every index.interval.bytes,
  // pointing at the batch about to be written; the time index records the
  // largest timestamp seen before it.
  if (position > 0 && bytes_since_index_entry_ >= index_interval_bytes) {
    if (IoStatus s = index_.append(batch.base_offset, static_cast<uint32_t>(position)); !s.ok()) {
      return s;
    }
    if (IoStatus s = time_index_.maybe_append(max_timestamp_ms_, max_timestamp_offset_); !s.ok()) {
      return s;
    }
    bytes_since_index_entry_ = 0;
  }
  bytes_since_index_entry_ += batch.bytes;
  if (batch.max_timestamp_ms > max_timestamp_ms_) {
    max_timestamp_ms_ = batch.max_timestamp_ms;
    max_timestamp_offset_ = batch.base_offset;
  }
  next_offset_ = batch.last_offset.next();
  return IoStatus::success();
}

IoStatus Segment::append(std::string_view bytes, std::span<const BatchInfo> batches,
                         uint32_t index_interval_bytes, bool* undone) {
  DMQ_ASSERT(!batches.empty());
  // Offsets only grow; gaps are what the cleaner leaves (CLEANER.md).
  DMQ_ASSERT(batches.front().base_offset >= next_offset_);
  DMQ_ASSERT(size_bytes_ + bytes.size() <= kMaxSegmentPosition);
  *undone = true;
  // What index_batch() moves, to put back if a write fails halfway.
  const Offset next_before = next_offset_;
  const int64_t max_ts_before = max_timestamp_ms_;
  const Offset max_ts_offset_before = max_timestamp_offset_;
  const uint64_t since_entry_before = bytes_since_index_entry_;
  auto undo = [&](IoStatus cause) {
    // Cutting a file back needs no free space, so this works on a full disk.
    IoStatus cut = log_->truncate(size_bytes_);
    if (cut.ok()) cut = index_.truncate_from(batches.front().base_offset);
    if (cut.ok()) cut = time_index_.truncate_from(batches.front().base_offset);
    next_offset_ = next_before;
    max_timestamp_ms_ = max_ts_before;
    max_timestamp_offset_ = max_ts_offset_before;
    bytes_since_index_entry_ = since_entry_before;
    *undone = cut.ok();
    return cause;
  };
  if (IoStatus s = log_->write_at(size_bytes_, bytes); !s.ok()) return undo(s);
  data_dirty = index_dirty = true;
  uint64_t position = size_bytes_;
  for (const BatchInfo& b : batches) {
    if (IoStatus s = index_batch(b, position, index_interval_bytes); !s.ok()) return undo(s);
    // The header a reader would parse, built from what the appender already
    // knows (the produce path parses each header once, in the validator).
    const char* at = bytes.data() + (position - size_bytes_);
    remember(position,
             format::BatchHeader{b.base_offset, b.bytes, b.leader_epoch,
                                 format::get_be32(at + batch_layout::kCrc),
                                 static_cast<int32_t>(b.last_offset.value - b.base_offset.value),
                                 b.max_timestamp_ms});
    position += b.bytes;
  }
  DMQ_ASSERT(position == size_bytes_ + bytes.size());
  size_bytes_ = position;
  return IoStatus::success();
}

void Segment::remember(uint64_t position, const format::BatchHeader& header) {
  if (!recent_.empty() && recent_.back().position + recent_.back().header.total_bytes != position) {
    recent_.clear();  // not contiguous with what is remembered: start over
  }
  recent_.push_back({position, header});
  if (recent_.size() > kRecentBatches) recent_.pop_front();
}

const BatchLocation* Segment::recent_at(uint64_t position) const {
  if (recent_.empty() || position < recent_.front().position) return nullptr;
  auto it =
      std::lower_bound(recent_.begin(), recent_.end(), position,
                       [](const BatchLocation& b, uint64_t wanted) { return b.position < wanted; });
  return it != recent_.end() && it->position == position ? &*it : nullptr;
}

IoStatus Segment::read_header(uint64_t position, format::BatchHeader* out) const {
  if (const BatchLocation* known = recent_at(position)) {
    *out = known->header;
    return IoStatus::success();
  }
  char buf[batch_layout::kHeaderSize];
  size_t n = 0;
  if (IoStatus s = log_->read_at(position, buf, &n); !s.ok()) return s;
  auto h = format::parse_batch_header(std::string_view(buf, n));
  if (!h || position + h->total_bytes > size_bytes_) {
    return corrupt("bad batch header at " + std::to_string(position) + " in segment " +
                   format::segment_stem(base_));
  }
  *out = *h;
  return IoStatus::success();
}

IoStatus Segment::find_batch(Offset target, BatchLocation* out) const {
  DMQ_ASSERT(target >= base_);
  DMQ_ASSERT(target < next_offset_);
  if (!recent_.empty() && target >= recent_.front().header.base_offset) {
    auto it = std::lower_bound(
        recent_.begin(), recent_.end(), target,
        [](const BatchLocation& b, Offset wanted) { return b.header.last_offset() < wanted; });
    if (it != recent_.end()) {
      *out = *it;
      return IoStatus::success();
    }
  }
  uint64_t position = index_.lookup(target).position;
  while (position < size_bytes_) {
    format::BatchHeader h;
    if (IoStatus s = read_header(position, &h); !s.ok()) return s;
    if (h.last_offset() >= target) {
      *out = {position, h};
      return IoStatus::success();
    }
    position += h.total_bytes;
  }
  // `target` lies in a gap the cleaner left at the end of this segment.
  return IoStatus::error(IoCode::kNotFound, "offset " + std::to_string(target.value) +
                                                " past the last batch of segment " +
                                                format::segment_stem(base_));
}

IoStatus Segment::extent(uint64_t start, uint64_t max_bytes, Offset max_offset, uint64_t* end,
                         Offset* next_offset) const {
  uint64_t position = start;
  *next_offset = Offset(-1);
  // Jump over whole index intervals that certainly fit, then walk headers.
  uint64_t limit = max_bytes > size_bytes_ ? size_bytes_ : start + max_bytes;
  OffsetIndexEntry by_size = index_.lookup_position(limit);
  OffsetIndexEntry by_offset = index_.lookup(Offset(max_offset.value - 1));
  OffsetIndexEntry jump = by_size.offset < by_offset.offset ? by_size : by_offset;
  if (jump.position > start) {
    position = jump.position;
    *next_offset = jump.offset;
  }
  while (position < size_bytes_) {
    format::BatchHeader h;
    if (IoStatus s = read_header(position, &h); !s.ok()) return s;
    if (h.base_offset >= max_offset) break;
    if (position > start && position + h.total_bytes - start > max_bytes) break;
    position += h.total_bytes;
    *next_offset = h.last_offset().next();
  }
  *end = position;
  return IoStatus::success();
}

IoStatus Segment::find_timestamp(int64_t timestamp_ms, std::optional<BatchLocation>* out) const {
  out->reset();
  std::optional<TimeIndexEntry> before = time_index_.last_before(timestamp_ms);
  uint64_t position = index_.lookup(before ? before->offset : base_).position;
  while (position < size_bytes_) {
    format::BatchHeader h;
    if (IoStatus s = read_header(position, &h); !s.ok()) return s;
    if (h.max_timestamp_ms >= timestamp_ms) {
      *out = BatchLocation{position, h};
      return IoStatus::success();
    }
    position += h.total_bytes;
  }
  return IoStatus::success();
}

IoStatus Segment::load_indexes(bool* consistent) {
  bool index_ok = false;
  bool time_ok = false;
  if (IoStatus s = index_.load(size_bytes_, &index_ok); !s.ok()) return s;
  if (IoStatus s = time_index_.load(&time_ok); !s.ok()) return s;
  *consistent = index_ok && time_ok && !indexes_missing_;
  return IoStatus::success();
}

bool Segment::adopt_sealed_state(Offset next) {
  next_offset_ = next;
  std::optional<TimeIndexEntry> last_time = time_index_.last();
  max_timestamp_ms_ = last_time ? last_time->timestamp_ms : -1;
  max_timestamp_offset_ = last_time ? last_time->offset : base_;
  OffsetIndexEntry last_index = index_.lookup(Offset(INT64_MAX));
  bool index_fits = last_index.offset < next || index_.entries() == 0;
  bool time_fits = !last_time || last_time->offset < next;
  return index_fits && time_fits && next > base_;
}

IoStatus Segment::recover_from(OffsetIndexEntry from, uint32_t index_interval_bytes,
                               const std::function<void(const format::BatchHeader&)>& on_batch,
                               uint64_t* truncated_bytes) {
  *truncated_bytes = 0;
  recent_.clear();
  if (IoStatus s = index_.truncate_from(from.offset.next()); !s.ok()) return s;
  if (IoStatus s = time_index_.truncate_from(from.offset); !s.ok()) return s;
  std::optional<TimeIndexEntry> last_time = time_index_.last();
  max_timestamp_ms_ = last_time ? last_time->timestamp_ms : -1;
  max_timestamp_offset_ = last_time ? last_time->offset : base_;
  bytes_since_index_entry_ = 0;
  next_offset_ = from.offset;
  index_dirty = true;
  indexes_missing_ = false;

  uint64_t file_size = 0;
  if (IoStatus s = log_->size(&file_size); !s.ok()) return s;
  uint64_t position = from.position;
  std::string batch;
  while (position < file_size) {
    char head[batch_layout::kHeaderSize];
    size_t n = 0;
    if (IoStatus s = log_->read_at(position, head, &n); !s.ok()) return s;
    auto h = format::parse_batch_header(std::string_view(head, n));
    // Offsets must grow; a gap is one the cleaner left (CLEANER.md).
    if (!h || h->total_bytes > file_size - position || h->base_offset < next_offset_ ||
        position + h->total_bytes > kMaxSegmentPosition) {
      break;  // torn, foreign or out-of-sequence bytes: the log ends here
    }
    batch.resize(h->total_bytes);
    if (IoStatus s = log_->read_at(position, batch, &n); !s.ok()) return s;
    if (n != batch.size() || !format::batch_crc_ok(batch)) break;
    BatchInfo info{h->base_offset, h->last_offset(), h->max_timestamp_ms, h->leader_epoch,
                   h->total_bytes};
    if (IoStatus s = index_batch(info, position, index_interval_bytes); !s.ok()) return s;
    remember(position, *h);
    if (on_batch) on_batch(*h);
    position += h->total_bytes;
  }
  size_bytes_ = position;
  if (position < file_size) {
    *truncated_bytes = file_size - position;
    data_dirty = true;
    return log_->truncate(position);
  }
  return IoStatus::success();
}

IoStatus Segment::truncate_to(Offset offset, uint32_t index_interval_bytes) {
  if (offset >= next_offset_) return IoStatus::success();
  OffsetIndexEntry from{base_, 0};
  uint64_t cut = 0;
  if (offset > base_) {
    BatchLocation loc;
    IoStatus found = find_batch(offset, &loc);
    if (found.code == IoCode::kNotFound) {
      next_offset_ = offset;  // only a cleaner's gap lies at or after `offset`
      return IoStatus::success();
    }
    if (!found.ok()) return found;
    cut = loc.position;
    if (loc.header.base_offset > base_)
      from = index_.lookup(Offset(loc.header.base_offset.value - 1));
  }
  if (IoStatus s = log_->truncate(cut); !s.ok()) return s;
  data_dirty = true;
  uint64_t ignored = 0;
  return recover_from(from, index_interval_bytes, nullptr, &ignored);
}

IoStatus Segment::seal() {
  std::deque<BatchLocation>().swap(recent_);  // readers mostly follow the new active segment
  index_dirty = true;
  return time_index_.maybe_append(max_timestamp_ms_, max_timestamp_offset_);
}

IoStatus Segment::remove_files(FileEnv& env) {
  IoStatus result = env.remove(segment_path(dir_, base_, format::kLogSuffix));
  for (auto suffix : {format::kIndexSuffix, format::kTimeIndexSuffix}) {
    IoStatus s = env.remove(segment_path(dir_, base_, suffix));
    if (!s.ok() && s.code != IoCode::kNotFound && result.ok()) result = s;
  }
  return result;
}

}  // namespace dmq::store
