#include "group/records.h"

#include "common/big_endian.h"

#include <limits>
#include <vector>

namespace dmq::group {
namespace {

// Kafka's schema types on top of the big-endian integers.
class Out : public BigEndianWriter {
 public:
  void str(std::string_view s) {
    // Kafka strings are at most int16 long; longer input is cut by the
    // callers' validation (group ids, topics and metadata are bounded).
    size_t n = std::min<size_t>(s.size(), std::numeric_limits<int16_t>::max());
    i16(static_cast<int16_t>(n));
    raw(s.substr(0, n));
  }
  void nullable_str(const std::optional<std::string>& s) {
    if (!s) return i16(-1);
    str(*s);
  }
  void bytes(std::string_view b) {
    i32(static_cast<int32_t>(b.size()));
    raw(b);
  }
};

class In : public BigEndianReader {
 public:
  using BigEndianReader::BigEndianReader;
  std::optional<std::string> nullable_str() {
    int16_t n = i16();
    if (n < 0) return std::nullopt;
    return take(static_cast<size_t>(n));
  }
  std::string str() {
    auto s = nullable_str();
    if (!s) fail();
    return s.value_or("");
  }
  std::string bytes() {
    int32_t n = i32();
    if (n < 0) return {};
    return take(static_cast<size_t>(n));
  }

 private:
  std::string take(size_t n) { return std::string(raw(n)); }
};

// One code point from UTF-8 at `s[i]`; U+FFFD (one byte consumed) when invalid.
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + static_cast<size_t>(len) > s.size()) {
    i++;
    return 0xfffd;
  }
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < len; ++k) {
    unsigned char cc = byte(i + static_cast<size_t>(k));
    if ((cc >> 6) != 0x2) {
      i++;
      return 0xfffd;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  i += static_cast<size_t>(len);
  return cp;
}

}  // namespace

int32_t java_string_hash(std::string_view utf8) {
  uint32_t h = 0;  // int32 arithmetic that wraps, done unsigned to stay defined
  for (size_t i = 0; i < utf8.size();) {
    uint32_t cp = next_code_point(utf8, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      h = h * 31 + (0xd800 + (cp >> 10));
      h = h * 31 + (0xdc00 + (cp & 0x3ff));
    } else {
      h = h * 31 + cp;
    }
  }
  return static_cast<int32_t>(h);
}

int32_t partition_for(std::string_view group_id, int32_t partitions) {
  int32_t h = java_string_hash(group_id);
  int32_t a = h == std::numeric_limits<int32_t>::min() ? 0 : (h < 0 ? -h : h);
  return partitions > 0 ? a % partitions : 0;
}

std::string encode_offset_key(std::string_view group_id, const TopicPartition& tp) {
  Out o;
  o.i16(1);
  o.str(group_id);
  o.str(tp.topic);
  o.i32(tp.partition);
  return o.take();
}

std::string encode_offset_value(const CommittedOffset& v) {
  Out o;
  if (v.expire_timestamp_ms) {
    o.i16(1);
    o.i64(v.offset);
    o.str(v.metadata);
    o.i64(v.commit_timestamp_ms);
    o.i64(*v.expire_timestamp_ms);
  } else {
    o.i16(3);
    o.i64(v.offset);
    o.i32(v.leader_epoch);
    o.str(v.metadata);
    o.i64(v.commit_timestamp_ms);
  }
  return o.take();
}

std::string encode_group_key(std::string_view group_id) {
  Out o;
  o.i16(2);
  o.str(group_id);
  return o.take();
}

std::string encode_group_value(const GroupSnapshot& s) {
  Out o;
  o.i16(3);
  o.str(s.protocol_type);
  o.i32(s.generation_id);
  o.nullable_str(s.protocol_name);
  o.nullable_str(s.leader_id);
  o.i64(s.state_timestamp_ms);
  o.i32(static_cast<int32_t>(s.members.size()));
  for (const auto& m : s.members) {
    o.str(m.member_id);
    o.nullable_str(m.group_instance_id);
    o.str(m.client_id);
    o.str(m.client_host);
    o.i32(m.rebalance_timeout_ms);
    o.i32(m.session_timeout_ms);
    o.bytes(m.metadata);
    o.bytes(m.assignment);
  }
  return o.take();
}

namespace {

std::optional<CommittedOffset> decode_offset_value(std::string_view bytes) {
  In in(bytes);
  int16_t version = in.i16();
  if (version < 0 || version > 3) return std::nullopt;
  CommittedOffset v;
  v.offset = in.i64();
  if (version >= 3) v.leader_epoch = in.i32();
  v.metadata = in.str();
  v.commit_timestamp_ms = in.i64();
  if (version == 1) {
    int64_t expire = in.i64();
    if (expire >= 0) v.expire_timestamp_ms = expire;
  }
  if (!in.ok()) return std::nullopt;
  return v;
}

std::optional<GroupSnapshot> decode_group_value(std::string_view bytes) {
  In in(bytes);
  int16_t version = in.i16();
  if (version < 0 || version > 3) return std::nullopt;
  GroupSnapshot s;
  s.protocol_type = in.str();
  s.generation_id = in.i32();
  s.protocol_name = in.nullable_str();
  s.leader_id = in.nullable_str();
  if (version >= 2) s.state_timestamp_ms = in.i64();
  int32_t n = in.i32();
  // Each member takes at least 20 bytes: a count beyond that is garbage.
  if (!in.ok() || n < 0 || static_cast<size_t>(n) > bytes.size() / 20) return std::nullopt;
  for (int32_t i = 0; i < n && in.ok(); ++i) {
    MemberView m;
    m.member_id = in.str();
    if (version >= 3) m.group_instance_id = in.nullable_str();
    m.client_id = in.str();
    m.client_host = in.str();
    m.rebalance_timeout_ms = version >= 1 ? in.i32() : -1;
    m.session_timeout_ms = in.i32();
    if (version == 0) m.rebalance_timeout_ms = m.session_timeout_ms;
    m.metadata = in.bytes();
    m.assignment = in.bytes();
    s.members.push_back(std::move(m));
  }
  if (!in.ok()) return std::nullopt;
  return s;
}

}  // namespace

std::optional<OffsetsRecord> decode_offsets_record(std::optional<std::string_view> key,
                                                   std::optional<std::string_view> value) {
  if (!key) return std::nullopt;
  In in(*key);
  int16_t version = in.i16();
  OffsetsRecord r;
  if (version == 0 || version == 1) {
    r.kind = OffsetsRecord::Kind::kOffset;
    r.group_id = in.str();
    r.tp.topic = in.str();
    r.tp.partition = in.i32();
    if (!in.done()) return std::nullopt;
    if (value) {
      r.offset = decode_offset_value(*value);
      if (!r.offset) return std::nullopt;
    }
    return r;
  }
  if (version == 2) {
    r.kind = OffsetsRecord::Kind::kGroup;
    r.group_id = in.str();
    if (!in.done()) return std::nullopt;
    if (value) {
      r.group = decode_group_value(*value);
      if (!r.group) return std::nullopt;
    }
    return r;
  }
  return std::nullopt;
}

}  // namespace dmq::group
