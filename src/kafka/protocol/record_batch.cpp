#include "kafka/protocol/record_batch.h"

#include <algorithm>
#include <memory>

#include "common/assert.h"
#include "common/crc32c.h"
#include "kafka/protocol/io.h"

namespace dmq::kafka {

namespace bf = batch_layout;

namespace {

template <class U>
U load_be(const char* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>((v << 8) | static_cast<uint8_t>(p[i]));
  return v;
}

template <class U>
void store_be(char* p, U v) {
  for (size_t i = 0; i < sizeof(U); ++i) p[i] = static_cast<char>(v >> (8 * (sizeof(U) - 1 - i)));
}

// Header checks that need no CRC (LogValidator.validateBatch and
// ProduceRequest.validateRecords), in Kafka's order: size first, then magic.
BatchError check_header(const BatchHeader& h, size_t available, const BatchLimits& limits) {
  if (h.batch_length < static_cast<int32_t>(bf::kHeaderSize - bf::kLogOverhead)) {
    return BatchError::kBadLength;
  }
  if (h.total_size() > available) return BatchError::kTruncated;
  if (static_cast<int64_t>(h.total_size()) > limits.max_batch_bytes) return BatchError::kTooLarge;
  if (h.magic != bf::kMagicV2) return BatchError::kBadMagic;
  return BatchError::kOk;
}

// Checks after the CRC: the fields only make sense once the bytes are known good.
BatchError check_contents(const BatchHeader& h, const BatchLimits& limits) {
  auto codec = static_cast<int>(h.compression());
  if (codec > static_cast<int>(Compression::kZstd)) return BatchError::kUnsupportedCompression;
  if (h.compression() == Compression::kZstd && !limits.allow_zstd) {
    return BatchError::kUnsupportedCompression;
  }
  if (h.is_control() && !limits.allow_control) return BatchError::kControlBatch;
  // Kafka requires lastOffsetDelta + 1 == recordCount > 0 (validateBatch).
  int64_t from_offsets = static_cast<int64_t>(h.last_offset_delta) + 1;
  if (from_offsets <= 0 || from_offsets != h.record_count) return BatchError::kBadRecordCount;
  // Every record takes at least 7 bytes, so an uncompressed batch cannot claim
  // more records than it has bytes.
  if (h.compression() == Compression::kNone &&
      static_cast<size_t>(h.record_count) > h.total_size() - bf::kHeaderSize) {
    return BatchError::kBadRecordCount;
  }
  if (h.producer_id >= 0 && h.base_sequence < 0) return BatchError::kMissingSequence;
  return BatchError::kOk;
}

bool crc_matches(const char* batch, const BatchHeader& h) {
  const char* covered = batch + bf::kAttributes;
  size_t covered_size = h.total_size() - bf::kAttributes;
  return crc32c_extend(0, covered, covered_size) == h.crc;
}

}  // namespace

ErrorCode to_error_code(BatchError error) {
  switch (error) {
    case BatchError::kOk:
      return ErrorCode::kNone;
    case BatchError::kTruncated:
    case BatchError::kBadLength:
    case BatchError::kBadCrc:
    case BatchError::kBadRecord:
    case BatchError::kDecompression:
      return ErrorCode::kCorruptMessage;
    case BatchError::kTooLarge:
      return ErrorCode::kMessageTooLarge;
    case BatchError::kUnsupportedCompression:
      return ErrorCode::kUnsupportedCompressionType;
    case BatchError::kBadMagic:
    case BatchError::kBadRecordCount:
    case BatchError::kControlBatch:
    case BatchError::kMissingSequence:
    case BatchError::kBatchCount:
      return ErrorCode::kInvalidRecord;
  }
  return ErrorCode::kUnknownServerError;
}

std::string_view batch_error_name(BatchError error) {
  switch (error) {
    case BatchError::kOk:
      return "ok";
    case BatchError::kTruncated:
      return "truncated";
    case BatchError::kBadLength:
      return "bad_length";
    case BatchError::kBadCrc:
      return "bad_crc";
    case BatchError::kBadMagic:
      return "bad_magic";
    case BatchError::kTooLarge:
      return "too_large";
    case BatchError::kUnsupportedCompression:
      return "unsupported_compression";
    case BatchError::kBadRecordCount:
      return "bad_record_count";
    case BatchError::kControlBatch:
      return "control_batch";
    case BatchError::kMissingSequence:
      return "missing_sequence";
    case BatchError::kBatchCount:
      return "batch_count";
    case BatchError::kBadRecord:
      return "bad_record";
    case BatchError::kDecompression:
      return "decompression";
  }
  return "unknown";
}

int32_t BatchHeader::last_sequence() const {
  if (base_sequence < 0) return -1;
  // Kafka's DefaultRecordBatch.incrementSequence: wrap at INT32_MAX to 0.
  int64_t last = static_cast<int64_t>(base_sequence) + last_offset_delta;
  if (last > INT32_MAX) last -= static_cast<int64_t>(INT32_MAX) + 1;
  return static_cast<int32_t>(last);
}

BatchError read_batch_header(std::string_view bytes, BatchHeader& h) {
  if (bytes.size() < bf::kHeaderSize) return BatchError::kTruncated;
  const char* p = bytes.data();
  h.base_offset = static_cast<int64_t>(load_be<uint64_t>(p + bf::kBaseOffset));
  h.batch_length = static_cast<int32_t>(load_be<uint32_t>(p + bf::kBatchLength));
  h.partition_leader_epoch = static_cast<int32_t>(load_be<uint32_t>(p + bf::kPartitionLeaderEpoch));
  h.magic = static_cast<int8_t>(p[bf::kMagic]);
  h.crc = load_be<uint32_t>(p + bf::kCrc);
  h.attributes = static_cast<int16_t>(load_be<uint16_t>(p + bf::kAttributes));
  h.last_offset_delta = static_cast<int32_t>(load_be<uint32_t>(p + bf::kLastOffsetDelta));
  h.base_timestamp = static_cast<int64_t>(load_be<uint64_t>(p + bf::kBaseTimestamp));
  h.max_timestamp = static_cast<int64_t>(load_be<uint64_t>(p + bf::kMaxTimestamp));
  h.producer_id = static_cast<int64_t>(load_be<uint64_t>(p + bf::kProducerId));
  h.producer_epoch = static_cast<int16_t>(load_be<uint16_t>(p + bf::kProducerEpoch));
  h.base_sequence = static_cast<int32_t>(load_be<uint32_t>(p + bf::kBaseSequence));
  h.record_count = static_cast<int32_t>(load_be<uint32_t>(p + bf::kRecordCount));
  return BatchError::kOk;
}

RecordSetInfo validate_record_set(std::string_view records, const BatchLimits& limits) {
  RecordSetInfo info;
  size_t pos = 0;
  auto fail = [&](BatchError e) {
    info.error = e;
    info.error_offset = pos;
    return info;
  };
  if (records.empty()) return fail(BatchError::kBatchCount);
  while (pos < records.size()) {
    if (limits.single_batch && info.batch_count == 1) return fail(BatchError::kBatchCount);
    std::string_view rest = records.substr(pos);
    BatchHeader h;
    // A batch shorter than its 12-byte prefix, or than the header it claims,
    // is a torn or corrupt write.
    if (rest.size() < bf::kLogOverhead) return fail(BatchError::kTruncated);
    if (read_batch_header(rest, h) != BatchError::kOk) {
      int32_t len = static_cast<int32_t>(load_be<uint32_t>(rest.data() + bf::kBatchLength));
      return fail(len < static_cast<int32_t>(bf::kHeaderSize - bf::kLogOverhead)
                      ? BatchError::kBadLength
                      : BatchError::kTruncated);
    }
    if (auto e = check_header(h, rest.size(), limits); e != BatchError::kOk) return fail(e);
    if (!crc_matches(rest.data(), h)) return fail(BatchError::kBadCrc);
    if (auto e = check_contents(h, limits); e != BatchError::kOk) return fail(e);
    if (info.batch_count == 0) info.first = h;
    ++info.batch_count;
    info.record_count += h.record_count;
    info.max_timestamp = std::max(info.max_timestamp, h.max_timestamp);
    pos += h.total_size();
  }
  return info;
}

size_t valid_prefix_length(std::string_view bytes) {
  size_t pos = 0;
  BatchLimits any{INT64_MAX, true, true, false};
  while (pos < bytes.size()) {
    std::string_view rest = bytes.substr(pos);
    BatchHeader h;
    if (read_batch_header(rest, h) != BatchError::kOk) break;
    if (check_header(h, rest.size(), any) != BatchError::kOk) break;
    if (!crc_matches(rest.data(), h)) break;
    pos += h.total_size();
  }
  return pos;
}

void set_base_offset(char* batch, int64_t base_offset) {
  store_be<uint64_t>(batch + bf::kBaseOffset, static_cast<uint64_t>(base_offset));
}

void set_partition_leader_epoch(char* batch, int32_t epoch) {
  store_be<uint32_t>(batch + bf::kPartitionLeaderEpoch, static_cast<uint32_t>(epoch));
}

void set_log_append_time(char* batch, size_t size, int64_t now_ms) {
  DMQ_ASSERT(size >= bf::kHeaderSize);
  auto attributes = static_cast<int16_t>(load_be<uint16_t>(batch + bf::kAttributes));
  attributes = static_cast<int16_t>(attributes | bf::kTimestampTypeBit);
  store_be<uint16_t>(batch + bf::kAttributes, static_cast<uint16_t>(attributes));
  store_be<uint64_t>(batch + bf::kMaxTimestamp, static_cast<uint64_t>(now_ms));
  uint32_t crc = crc32c_extend(0, batch + bf::kAttributes, size - bf::kAttributes);
  store_be<uint32_t>(batch + bf::kCrc, crc);
}

int64_t assign_offsets(char* records, size_t size, int64_t next_offset, int32_t leader_epoch) {
  size_t pos = 0;
  while (pos < size) {
    BatchHeader h;
    // The set was validated: a short or inconsistent batch here is a bug.
    DMQ_ASSERT(read_batch_header(std::string_view(records + pos, size - pos), h) ==
               BatchError::kOk);
    DMQ_ASSERT(h.total_size() <= size - pos);
    set_base_offset(records + pos, next_offset);
    set_partition_leader_epoch(records + pos, leader_epoch);
    next_offset += static_cast<int64_t>(h.last_offset_delta) + 1;
    pos += h.total_size();
  }
  return next_offset;
}

// ---- records ---------------------------------------------------------------------

namespace {

// A zig-zag varint length: -1 means null; other negatives are malformed.
bool read_optional_bytes(Reader& r, std::optional<std::string_view>& out) {
  int32_t len = r.varint();
  if (!r.ok() || len < -1) return false;
  if (len == -1) {
    out.reset();
    return true;
  }
  out = r.take(static_cast<size_t>(len));
  return r.ok();
}

bool parse_record_body(std::string_view body, Record& out) {
  Reader r(body);
  out.attributes = r.i8();
  out.timestamp_delta = r.varlong();
  out.offset_delta = r.varint();
  if (!read_optional_bytes(r, out.key)) return false;
  if (!read_optional_bytes(r, out.value)) return false;
  int32_t header_count = r.varint();
  if (!r.ok() || header_count < 0 || static_cast<size_t>(header_count) > r.remaining()) {
    return false;
  }
  out.headers.clear();
  for (int32_t i = 0; i < header_count; ++i) {
    std::optional<std::string_view> key;
    RecordHeader h;
    if (!read_optional_bytes(r, key) || !key) return false;
    h.key = *key;
    if (!read_optional_bytes(r, h.value)) return false;
    out.headers.push_back(h);
  }
  // The length prefix must cover exactly the record.
  return r.ok() && r.remaining() == 0;
}

}  // namespace

bool RecordIterator::next(Record& out) {
  if (error_ != BatchError::kOk || remaining_ <= 0) return false;
  Reader r(rest_);
  int32_t length = r.varint();
  if (!r.ok() || length < 0) {
    error_ = BatchError::kBadRecord;
    return false;
  }
  std::string_view body = r.take(static_cast<size_t>(length));
  if (!r.ok() || !parse_record_body(body, out)) {
    error_ = BatchError::kBadRecord;
    return false;
  }
  rest_ = rest_.substr(r.position());
  --remaining_;
  return true;
}

void RecordBatchBuilder::add(int64_t timestamp_ms, std::optional<std::string_view> key,
                             std::optional<std::string_view> value,
                             const std::vector<RecordHeader>& headers) {
  if (count_ == 0) base_timestamp_ = timestamp_ms;
  max_timestamp_ = std::max(max_timestamp_, timestamp_ms);
  Writer body;
  body.i8(0);
  body.varlong(timestamp_ms - base_timestamp_);
  body.varint(count_);
  auto optional_bytes = [&](const std::optional<std::string_view>& b) {
    if (!b) {
      body.varint(-1);
      return;
    }
    body.varint(static_cast<int32_t>(b->size()));
    body.raw(*b);
  };
  optional_bytes(key);
  optional_bytes(value);
  body.varint(static_cast<int32_t>(headers.size()));
  for (const auto& h : headers) {
    optional_bytes(h.key);
    optional_bytes(h.value);
  }
  Writer framed;
  framed.varint(static_cast<int32_t>(body.size()));
  records_ += framed.take_bytes();
  records_ += body.take_bytes();
  ++count_;
}

std::string RecordBatchBuilder::build() const {
  DMQ_ASSERT((options_.attributes & bf::kCompressionMask) == 0);
  Writer w(bf::kHeaderSize + records_.size());
  w.i64(options_.base_offset);
  w.i32(static_cast<int32_t>(bf::kHeaderSize - bf::kLogOverhead + records_.size()));
  w.i32(options_.partition_leader_epoch);
  w.i8(bf::kMagicV2);
  w.u32(0);  // CRC, patched below
  w.i16(options_.attributes);
  w.i32(count_ > 0 ? count_ - 1 : -1);
  w.i64(base_timestamp_);
  w.i64(max_timestamp_);
  w.i64(options_.producer_id);
  w.i16(options_.producer_epoch);
  w.i32(options_.base_sequence);
  w.i32(count_);
  w.raw(records_);
  std::string out = w.take_bytes();
  uint32_t crc = crc32c_extend(0, out.data() + bf::kAttributes, out.size() - bf::kAttributes);
  store_be<uint32_t>(out.data() + bf::kCrc, crc);
  return out;
}

}  // namespace dmq::kafka
