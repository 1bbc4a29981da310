#include "group/share_records.h"

#include <algorithm>
#include <limits>

#include "common/big_endian.h"

namespace dmq::group {
namespace {

constexpr int16_t kVersion = 0;
constexpr size_t kMaxString = std::numeric_limits<int16_t>::max();

void put_str(BigEndianWriter& w, std::string_view s) {
  // Member ids, topics and error texts are bounded by the REST layer; a
  // longer error text is cut rather than refused.
  s = s.substr(0, std::min(s.size(), kMaxString));
  w.i16(static_cast<int16_t>(s.size()));
  w.raw(s);
}

std::string get_str(BigEndianReader& r) {
  int16_t n = r.i16();
  if (n < 0) {
    r.fail();
    return {};
  }
  return std::string(r.raw(static_cast<size_t>(n)));
}

void put_record(BigEndianWriter& w, int64_t offset, const InFlightRecord& rec) {
  w.i64(offset);
  w.u8(static_cast<uint8_t>(rec.state));
  w.i32(rec.delivery_count);
  w.i64(rec.lock_deadline_ms);
  w.i64(rec.available_at_ms);
  put_str(w, rec.member_id);
  put_str(w, rec.last_error);
  w.i32(rec.dead_letter_sequence);
}

bool get_record(BigEndianReader& r, SharePartitionSnapshot& s) {
  int64_t offset = r.i64();
  uint8_t state = r.u8();
  InFlightRecord rec;
  rec.delivery_count = r.i32();
  rec.lock_deadline_ms = r.i64();
  rec.available_at_ms = r.i64();
  rec.member_id = get_str(r);
  rec.last_error = get_str(r);
  rec.dead_letter_sequence = r.i32();
  if (!r.ok() || state > static_cast<uint8_t>(RecordState::kDeadLettering)) return false;
  if (offset < s.start_offset || offset >= s.next_offset) return false;
  rec.state = static_cast<RecordState>(state);
  s.records[offset] = std::move(rec);
  return true;
}

}  // namespace

std::string encode_share_key(std::string_view group_id, const TopicPartition& tp) {
  BigEndianWriter w;
  w.i16(kVersion);
  put_str(w, group_id);
  put_str(w, tp.topic);
  w.i32(tp.partition);
  return w.take();
}

std::string encode_share_value(const SharePartitionSnapshot& s) {
  BigEndianWriter w;
  w.i16(kVersion);
  w.i64(s.start_offset);
  w.i64(s.next_offset);
  w.i64(s.dead_lettered);
  w.i64(s.producer_id);
  w.i16(s.producer_epoch);
  w.i32(s.next_sequence);
  w.i32(static_cast<int32_t>(s.records.size()));
  for (const auto& [offset, rec] : s.records) put_record(w, offset, rec);
  return w.take();
}

std::optional<ShareStateRecord> decode_share_record(std::optional<std::string_view> key,
                                                    std::optional<std::string_view> value) {
  if (!key) return std::nullopt;
  BigEndianReader k(*key);
  ShareStateRecord out;
  if (k.i16() != kVersion) return std::nullopt;
  out.group_id = get_str(k);
  out.tp.topic = get_str(k);
  out.tp.partition = k.i32();
  if (!k.done()) return std::nullopt;
  if (!value) return out;  // tombstone
  BigEndianReader v(*value);
  if (v.i16() != kVersion) return std::nullopt;
  SharePartitionSnapshot s;
  s.start_offset = v.i64();
  s.next_offset = v.i64();
  s.dead_lettered = v.i64();
  s.producer_id = v.i64();
  s.producer_epoch = v.i16();
  s.next_sequence = v.i32();
  int32_t n = v.i32();
  if (!v.ok() || n < 0 || s.next_offset < s.start_offset) return std::nullopt;
  if (static_cast<size_t>(n) > v.remaining()) return std::nullopt;  // each record > 1 byte
  for (int32_t i = 0; i < n; ++i) {
    if (!get_record(v, s)) return std::nullopt;
  }
  if (!v.done()) return std::nullopt;
  out.snapshot = std::move(s);
  return out;
}

}  // namespace dmq::group
