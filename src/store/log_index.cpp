#include "store/log_index.h"

#include <algorithm>
#include <string>

#include "store/log_format.h"

namespace dmq::store {
namespace {

constexpr int64_t kMaxRelativeOffset = int64_t{UINT32_MAX};

IoStatus read_all(const File& file, std::string* out) {
  uint64_t size = 0;
  if (IoStatus s = file.size(&size); !s.ok()) return s;
  out->resize(size);
  size_t n = 0;
  if (IoStatus s = file.read_at(0, *out, &n); !s.ok()) return s;
  out->resize(n);
  return IoStatus::success();
}

}  // namespace

OffsetIndex::OffsetIndex(Offset base_offset, std::shared_ptr<File> file)
    : base_(base_offset), file_(std::move(file)) {}

IoStatus OffsetIndex::load(uint64_t log_bytes, bool* consistent) {
  entries_.clear();
  std::string bytes;
  if (IoStatus s = read_all(*file_, &bytes); !s.ok()) return s;
  *consistent = bytes.size() % format::kOffsetIndexEntryBytes == 0;
  for (size_t i = 0; *consistent && i < bytes.size(); i += format::kOffsetIndexEntryBytes) {
    OffsetIndexEntry e{Offset(base_.value + format::get_be32(&bytes[i])),
                       format::get_be32(&bytes[i + 4])};
    bool ordered = entries_.empty() ||
                   (e.offset > entries_.back().offset && e.position > entries_.back().position);
    *consistent = ordered && e.position < log_bytes && e.offset > base_;
    if (*consistent) entries_.push_back(e);
  }
  if (!*consistent) entries_.clear();
  return IoStatus::success();
}

IoStatus OffsetIndex::append(Offset offset, uint32_t position) {
  DMQ_ASSERT(offset > base_);
  DMQ_ASSERT(offset.value - base_.value <= kMaxRelativeOffset);
  if (!entries_.empty()) {
    DMQ_ASSERT(offset > entries_.back().offset);
    DMQ_ASSERT(position > entries_.back().position);
  }
  char buf[format::kOffsetIndexEntryBytes];
  format::put_be32(buf, static_cast<uint32_t>(offset.value - base_.value));
  format::put_be32(buf + 4, position);
  uint64_t at = entries_.size() * format::kOffsetIndexEntryBytes;
  if (IoStatus s = file_->write_at(at, std::string_view(buf, sizeof(buf))); !s.ok()) return s;
  entries_.push_back({offset, position});
  return IoStatus::success();
}

OffsetIndexEntry OffsetIndex::lookup(Offset target) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), target,
                             [](Offset t, const OffsetIndexEntry& e) { return t < e.offset; });
  if (it == entries_.begin()) return {base_, 0};
  return *std::prev(it);
}

OffsetIndexEntry OffsetIndex::lookup_position(uint64_t position) const {
  auto it = std::upper_bound(
      entries_.begin(), entries_.end(), position,
      [](uint64_t p, const OffsetIndexEntry& e) { return p < uint64_t{e.position}; });
  if (it == entries_.begin()) return {base_, 0};
  return *std::prev(it);
}

IoStatus OffsetIndex::truncate_from(Offset end) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), end,
                             [](const OffsetIndexEntry& e, Offset t) { return e.offset < t; });
  entries_.erase(it, entries_.end());
  return file_->truncate(entries_.size() * format::kOffsetIndexEntryBytes);
}

TimeIndex::TimeIndex(Offset base_offset, std::shared_ptr<File> file)
    : base_(base_offset), file_(std::move(file)) {}

IoStatus TimeIndex::load(bool* consistent) {
  entries_.clear();
  std::string bytes;
  if (IoStatus s = read_all(*file_, &bytes); !s.ok()) return s;
  *consistent = bytes.size() % format::kTimeIndexEntryBytes == 0;
  for (size_t i = 0; *consistent && i < bytes.size(); i += format::kTimeIndexEntryBytes) {
    TimeIndexEntry e{static_cast<int64_t>(format::get_be64(&bytes[i])),
                     Offset(base_.value + format::get_be32(&bytes[i + 8]))};
    bool ordered = entries_.empty() || (e.timestamp_ms > entries_.back().timestamp_ms &&
                                        e.offset >= entries_.back().offset);
    *consistent = ordered && e.timestamp_ms >= 0;
    if (*consistent) entries_.push_back(e);
  }
  if (!*consistent) entries_.clear();
  return IoStatus::success();
}

IoStatus TimeIndex::maybe_append(int64_t timestamp_ms, Offset offset) {
  if (timestamp_ms < 0) return IoStatus::success();  // "no timestamp" (-1) is not indexed
  if (!entries_.empty() && timestamp_ms <= entries_.back().timestamp_ms) {
    return IoStatus::success();
  }
  DMQ_ASSERT(offset >= base_);
  DMQ_ASSERT(offset.value - base_.value <= kMaxRelativeOffset);
  if (!entries_.empty()) DMQ_ASSERT(offset >= entries_.back().offset);
  char buf[format::kTimeIndexEntryBytes];
  format::put_be64(buf, static_cast<uint64_t>(timestamp_ms));
  format::put_be32(buf + 8, static_cast<uint32_t>(offset.value - base_.value));
  uint64_t at = entries_.size() * format::kTimeIndexEntryBytes;
  if (IoStatus s = file_->write_at(at, std::string_view(buf, sizeof(buf))); !s.ok()) return s;
  entries_.push_back({timestamp_ms, offset});
  return IoStatus::success();
}

std::optional<TimeIndexEntry> TimeIndex::last_before(int64_t timestamp_ms) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), timestamp_ms,
                             [](const TimeIndexEntry& e, int64_t t) { return e.timestamp_ms < t; });
  if (it == entries_.begin()) return std::nullopt;
  return *std::prev(it);
}

std::optional<TimeIndexEntry> TimeIndex::last() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

IoStatus TimeIndex::truncate_from(Offset end) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), end,
                             [](const TimeIndexEntry& e, Offset t) { return e.offset < t; });
  entries_.erase(it, entries_.end());
  return file_->truncate(entries_.size() * format::kTimeIndexEntryBytes);
}

}  // namespace dmq::store
