#include "kafka/protocol/message_set.h"

#include <zlib.h>

#include <optional>

#include "kafka/protocol/io.h"

namespace dmq::kafka {

namespace bf = batch_layout;

namespace {

constexpr size_t kEntryOverhead = 12;  // offset + size
constexpr size_t kMinMessageV0 = 14;   // crc, magic, attributes, key and value lengths
constexpr size_t kTimestampBytes = 8;  // magic 1 only
constexpr int8_t kLegacyCodecMask = 0x07;
constexpr int8_t kLegacyLogAppendTime = 0x08;
// A compressed wrapper holds a message set; one level only, as in Kafka.
constexpr int kMaxDepth = 1;

uint32_t crc32_ieee(std::string_view bytes) {
  return static_cast<uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

struct LegacyMessage {
  int8_t magic = 0;
  int8_t attributes = 0;
  int64_t timestamp = -1;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
};

std::optional<std::string_view> read_nbytes(Reader& r) {
  int32_t len = r.i32();
  if (!r.ok() || len < 0) return std::nullopt;
  return r.take(static_cast<size_t>(len));
}

// One message (after offset and size): CRC, magic and exact length checked.
BatchError parse_message(std::string_view msg, LegacyMessage& out) {
  if (msg.size() < kMinMessageV0) return BatchError::kBadLength;
  Reader r(msg);
  const uint32_t crc = r.u32();
  out.magic = r.i8();
  if (out.magic != 0 && out.magic != 1) return BatchError::kBadMagic;
  if (out.magic == 1 && msg.size() < kMinMessageV0 + kTimestampBytes) return BatchError::kBadLength;
  if (crc32_ieee(msg.substr(4)) != crc) return BatchError::kBadCrc;
  out.attributes = r.i8();
  out.timestamp = out.magic == 1 ? r.i64() : -1;
  int32_t key_len = r.i32();
  if (key_len < -1) return BatchError::kBadRecord;
  out.key = key_len < 0 ? std::nullopt : std::optional(r.take(static_cast<size_t>(key_len)));
  int32_t value_len = r.i32();
  if (value_len < -1) return BatchError::kBadRecord;
  out.value = value_len < 0 ? std::nullopt : std::optional(r.take(static_cast<size_t>(value_len)));
  if (!r.ok() || r.remaining() != 0) return BatchError::kBadRecord;
  return BatchError::kOk;
}

// Legacy codecs are gzip (1), snappy (2) and lz4 (3); DMQ decodes gzip and lz4.
BatchError unwrap(const LegacyMessage& m, std::string& inner) {
  const int codec = m.attributes & kLegacyCodecMask;
  if (codec > static_cast<int>(Compression::kLz4)) return BatchError::kUnsupportedCompression;
  if (!m.value) return BatchError::kBadRecord;
  return decompress(static_cast<Compression>(codec), *m.value, inner);
}

BatchError add_messages(std::string_view set, int depth, RecordBatchBuilder& out) {
  if (set.empty()) return depth == 0 ? BatchError::kBatchCount : BatchError::kBadRecord;
  Reader r(set);
  while (r.remaining() > 0) {
    if (r.remaining() < kEntryOverhead) return BatchError::kTruncated;
    r.i64();  // producers' offsets are ignored: the broker assigns them
    const int32_t size = r.i32();
    if (size < 0) return BatchError::kBadLength;
    if (static_cast<size_t>(size) > r.remaining()) return BatchError::kTruncated;
    LegacyMessage m;
    if (auto e = parse_message(r.take(static_cast<size_t>(size)), m); e != BatchError::kOk) {
      return e;
    }
    if ((m.attributes & kLegacyCodecMask) == 0) {
      out.add(m.timestamp, m.key, m.value);
      continue;
    }
    if (depth >= kMaxDepth) return BatchError::kBadRecord;
    std::string inner;
    if (auto e = unwrap(m, inner); e != BatchError::kOk) {
      return e == BatchError::kUnsupportedCompression ? e : BatchError::kDecompression;
    }
    if (auto e = add_messages(inner, depth + 1, out); e != BatchError::kOk) return e;
  }
  return BatchError::kOk;
}

// One message of `magic` in `w`: offset, size, crc, then the CRC'd body.
void write_message(Writer& w, int8_t magic, int64_t offset, bool log_append_time, int64_t timestamp,
                   const Record& rec) {
  Writer body;
  body.i8(magic);
  body.i8(magic == 1 && log_append_time ? kLegacyLogAppendTime : 0);
  if (magic == 1) body.i64(timestamp);
  auto nbytes = [&](const std::optional<std::string_view>& b) {
    body.i32(b ? static_cast<int32_t>(b->size()) : -1);
    if (b) body.raw(*b);
  };
  nbytes(rec.key);
  nbytes(rec.value);
  w.i64(offset);
  w.i32(static_cast<int32_t>(body.size() + 4));
  w.u32(crc32_ieee(body.bytes()));
  w.raw(body.bytes());
}

size_t legacy_size(int8_t magic, const Record& rec) {
  return kEntryOverhead + kMinMessageV0 + (magic == 1 ? kTimestampBytes : 0) +
         (rec.key ? rec.key->size() : 0) + (rec.value ? rec.value->size() : 0);
}

}  // namespace

int8_t records_magic(std::string_view records) {
  if (records.size() <= bf::kMagic) return -1;
  return static_cast<int8_t>(records[bf::kMagic]);
}

LegacyConversion convert_message_set(std::string_view message_set, int64_t max_batch_bytes) {
  LegacyConversion result;
  RecordBatchBuilder builder;
  result.error = add_messages(message_set, 0, builder);
  if (result.error != BatchError::kOk) return result;
  result.batch = builder.build();
  result.record_count = builder.record_count();
  if (static_cast<int64_t>(result.batch.size()) > max_batch_bytes) {
    result.error = BatchError::kTooLarge;
    result.batch.clear();
  }
  return result;
}

DownConversion down_convert(std::string_view batches, int8_t magic, int64_t first_offset,
                            size_t max_bytes) {
  DownConversion result;
  Writer w;
  std::string payload;
  while (batches.size() >= bf::kHeaderSize) {
    BatchHeader h;
    if (read_batch_header(batches, h) != BatchError::kOk || h.batch_length < 0 ||
        h.total_size() < bf::kHeaderSize || h.total_size() > batches.size()) {
      break;  // an incomplete trailing batch
    }
    std::string_view batch = batches.substr(0, h.total_size());
    batches.remove_prefix(h.total_size());
    if (h.is_control() || h.last_offset() < first_offset) continue;
    if (auto e = decompress_records(batch, payload); e != BatchError::kOk) {
      result.error = e;
      return result;
    }
    RecordIterator it(payload, h.record_count);
    Record rec;
    while (it.next(rec)) {
      const int64_t offset = h.base_offset + rec.offset_delta;
      if (offset < first_offset) continue;
      if (result.messages > 0 && w.size() + legacy_size(magic, rec) > max_bytes) {
        result.message_set = w.take_bytes();
        return result;
      }
      const int64_t ts =
          h.is_log_append_time() ? h.max_timestamp : h.base_timestamp + rec.timestamp_delta;
      write_message(w, magic, offset, h.is_log_append_time(), ts, rec);
      ++result.messages;
    }
    if (it.error() != BatchError::kOk) {
      result.error = it.error();
      return result;
    }
  }
  result.message_set = w.take_bytes();
  return result;
}

}  // namespace dmq::kafka
