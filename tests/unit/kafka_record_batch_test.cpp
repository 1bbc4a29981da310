// Record batches (magic 2): the Produce-path validator, in-place rewrites,
// the record iterator and builder, and decompression.
#include <doctest/doctest.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <string>

#include "common/crc32c.h"
#include "kafka/protocol/io.h"
#include "kafka/protocol/record_batch.h"

using namespace dmq::kafka;
namespace bf = dmq::batch_layout;

namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

// Two records as kafka-python 2.0.2's DefaultRecordBatchBuilder writes them:
// (ts 1700000000000, key "k1", value "hello", header h=v) and
// (ts 1700000000005, null key, value "world").
const std::string kPythonBatch = unhex(
    "00000000000000000000004f00000000024bf42f080000000000010000018bcfe568000000018bcfe56805ff"
    "ffffffffffffffffffffffffff0000000222000000046b310a68656c6c6f020268027616000a02010a776f72"
    "6c6400");

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string two_record_batch() {
  RecordBatchBuilder::Options options;
  options.partition_leader_epoch = 0;  // kafka-python writes 0, the Java client -1
  RecordBatchBuilder b(options);
  b.add(1700000000000, std::string_view("k1"), std::string_view("hello"),
        {{"h", std::string_view("v")}});
  b.add(1700000000005, std::nullopt, std::string_view("world"));
  return b.build();
}

void put_be32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

void fix_crc(std::string& batch) {
  put_be32(batch, bf::kCrc, dmq::crc32c(std::string_view(batch).substr(bf::kAttributes)));
}

// Replaces the records of `batch` by `payload` and sets the compression codec.
std::string with_payload(const std::string& batch, std::string_view payload, int codec) {
  std::string out = batch.substr(0, bf::kHeaderSize) + std::string(payload);
  put_be32(out, bf::kBatchLength, static_cast<uint32_t>(out.size() - bf::kLogOverhead));
  out[bf::kAttributes + 1] = static_cast<char>((out[bf::kAttributes + 1] & ~7) | codec);
  fix_crc(out);
  return out;
}

std::string payload_of(const std::string& batch) {
  return batch.substr(bf::kHeaderSize);
}

}  // namespace

TEST_CASE("the builder writes the same bytes as kafka-python") {
  CHECK(hex(two_record_batch()) == hex(kPythonBatch));
}

TEST_CASE("a good batch validates and reports its header") {
  RecordSetInfo info = validate_record_set(kPythonBatch, BatchLimits{});
  REQUIRE(info.error == BatchError::kOk);
  CHECK(info.batch_count == 1);
  CHECK(info.record_count == 2);
  CHECK(info.max_timestamp == 1700000000005);
  CHECK(info.first.producer_id == -1);
  CHECK(info.first.last_offset_delta == 1);
  CHECK(info.first.compression() == Compression::kNone);
}

TEST_CASE("truncated, bad-CRC and oversize batches are rejected with Kafka's codes") {
  BatchLimits limits;
  SUBCASE("truncated anywhere") {
    for (size_t n = 1; n < kPythonBatch.size(); ++n) {
      RecordSetInfo info = validate_record_set(std::string_view(kPythonBatch).substr(0, n), limits);
      CHECK(info.error != BatchError::kOk);
      CHECK(to_error_code(info.error) == ErrorCode::kCorruptMessage);
    }
  }
  SUBCASE("every flipped byte covered by the CRC is caught") {
    for (size_t i = bf::kAttributes; i < kPythonBatch.size(); ++i) {
      std::string b = kPythonBatch;
      b[i] ^= 0x10;
      CHECK(validate_record_set(b, limits).error == BatchError::kBadCrc);
    }
  }
  SUBCASE("baseOffset and leader epoch are outside the CRC") {
    std::string b = kPythonBatch;
    set_base_offset(b.data(), 12345);
    set_partition_leader_epoch(b.data(), 7);
    CHECK(validate_record_set(b, limits).error == BatchError::kOk);
  }
  SUBCASE("batch larger than max.message.bytes") {
    limits.max_batch_bytes = static_cast<int64_t>(kPythonBatch.size()) - 1;
    RecordSetInfo info = validate_record_set(kPythonBatch, limits);
    CHECK(info.error == BatchError::kTooLarge);
    CHECK(to_error_code(info.error) == ErrorCode::kMessageTooLarge);
    limits.max_batch_bytes = static_cast<int64_t>(kPythonBatch.size());
    CHECK(validate_record_set(kPythonBatch, limits).error == BatchError::kOk);
  }
  SUBCASE("batchLength below the header size") {
    std::string b = kPythonBatch;
    put_be32(b, bf::kBatchLength, 10);
    CHECK(validate_record_set(b, limits).error == BatchError::kBadLength);
  }
}

TEST_CASE("header rules: magic, codec, control, counts, sequences, batch count") {
  BatchLimits limits;
  auto with = [](size_t at, std::string_view bytes) {
    std::string b = kPythonBatch;
    b.replace(at, bytes.size(), bytes);
    fix_crc(b);
    return b;
  };
  CHECK(validate_record_set(with(bf::kMagic, unhex("01")), limits).error == BatchError::kBadMagic);
  std::string magic1 = kPythonBatch;
  magic1[bf::kMagic] = 1;  // CRC not fixed: magic is checked first, as Kafka does
  CHECK(to_error_code(validate_record_set(magic1, limits).error) == ErrorCode::kInvalidRecord);
  CHECK(validate_record_set(with(bf::kAttributes, unhex("0005")), limits).error ==
        BatchError::kUnsupportedCompression);
  limits.allow_zstd = false;
  CHECK(to_error_code(validate_record_set(with(bf::kAttributes, unhex("0004")), limits).error) ==
        ErrorCode::kUnsupportedCompressionType);
  limits.allow_zstd = true;
  CHECK(validate_record_set(with(bf::kAttributes, unhex("0020")), limits).error ==
        BatchError::kControlBatch);
  CHECK(validate_record_set(with(bf::kLastOffsetDelta, unhex("00000002")), limits).error ==
        BatchError::kBadRecordCount);
  CHECK(validate_record_set(with(bf::kRecordCount, unhex("00000000")), limits).error ==
        BatchError::kBadRecordCount);
  CHECK(validate_record_set(with(bf::kLastOffsetDelta, unhex("ffffffff")), limits).error ==
        BatchError::kBadRecordCount);
  // Idempotent producer id without a sequence.
  CHECK(validate_record_set(with(bf::kProducerId, unhex("0000000000000001")), limits).error ==
        BatchError::kMissingSequence);
  // Two batches where Produce v3+ wants one; fine when several are allowed.
  std::string two = kPythonBatch + kPythonBatch;
  CHECK(validate_record_set(two, limits).error == BatchError::kBatchCount);
  CHECK(validate_record_set("", limits).error == BatchError::kBatchCount);
  limits.single_batch = false;
  RecordSetInfo info = validate_record_set(two, limits);
  CHECK(info.error == BatchError::kOk);
  CHECK(info.batch_count == 2);
  CHECK(info.record_count == 4);
}

TEST_CASE("assign_offsets rewrites every batch in place") {
  std::string set = kPythonBatch + kPythonBatch;
  int64_t next = assign_offsets(set.data(), set.size(), 100, 9);
  CHECK(next == 104);
  BatchHeader h;
  REQUIRE(read_batch_header(set, h) == BatchError::kOk);
  CHECK(h.base_offset == 100);
  CHECK(h.partition_leader_epoch == 9);
  CHECK(h.last_offset() == 101);
  REQUIRE(read_batch_header(std::string_view(set).substr(kPythonBatch.size()), h) ==
          BatchError::kOk);
  CHECK(h.base_offset == 102);
  BatchLimits many;
  many.single_batch = false;
  CHECK(validate_record_set(set, many).error == BatchError::kOk);
}

TEST_CASE("LogAppendTime rewrite keeps the batch valid") {
  std::string b = kPythonBatch;
  set_log_append_time(b.data(), b.size(), 1800000000000);
  RecordSetInfo info = validate_record_set(b, BatchLimits{});
  REQUIRE(info.error == BatchError::kOk);
  CHECK(info.first.is_log_append_time());
  CHECK(info.first.max_timestamp == 1800000000000);
}

TEST_CASE("valid_prefix_length stops at a torn or corrupt tail") {
  std::string log = kPythonBatch + kPythonBatch;
  CHECK(valid_prefix_length(log) == log.size());
  CHECK(valid_prefix_length(std::string_view(log).substr(0, log.size() - 1)) ==
        kPythonBatch.size());
  log[kPythonBatch.size() + 30] ^= 1;
  CHECK(valid_prefix_length(log) == kPythonBatch.size());
}

TEST_CASE("sequence numbers wrap like Kafka's") {
  BatchHeader h;
  h.base_sequence = INT32_MAX;
  h.last_offset_delta = 2;
  CHECK(h.last_sequence() == 1);
}

TEST_CASE("record iterator decodes keys, values, headers") {
  BatchHeader h;
  REQUIRE(read_batch_header(kPythonBatch, h) == BatchError::kOk);
  std::string payload = payload_of(kPythonBatch);
  RecordIterator it(payload, h.record_count);
  Record r;
  REQUIRE(it.next(r));
  CHECK(r.key == std::optional<std::string_view>("k1"));
  CHECK(r.value == std::optional<std::string_view>("hello"));
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].key == "h");
  CHECK(r.headers[0].value == std::optional<std::string_view>("v"));
  REQUIRE(it.next(r));
  CHECK_FALSE(r.key.has_value());
  CHECK(r.offset_delta == 1);
  CHECK(r.timestamp_delta == 5);
  CHECK_FALSE(it.next(r));
  CHECK(it.done());
  // Truncated payloads end in an error, never a read past the end.
  for (size_t n = 0; n < payload.size(); ++n) {
    std::string cut = payload.substr(0, n);
    RecordIterator t(cut, 2);
    while (t.next(r)) {
    }
    CHECK(t.error() == BatchError::kBadRecord);
  }
}

TEST_CASE("compressed batches decompress: gzip, lz4, zstd; snappy is unsupported") {
  const std::string raw = payload_of(kPythonBatch);
  std::string out;
  SUBCASE("gzip") {
    z_stream s{};
    REQUIRE(deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string gz(256, '\0');
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    s.avail_in = static_cast<uInt>(raw.size());
    s.next_out = reinterpret_cast<Bytef*>(gz.data());
    s.avail_out = static_cast<uInt>(gz.size());
    REQUIRE(deflate(&s, Z_FINISH) == Z_STREAM_END);
    gz.resize(s.total_out);
    deflateEnd(&s);
    std::string batch = with_payload(kPythonBatch, gz, 1);
    CHECK(validate_record_set(batch, BatchLimits{}).error == BatchError::kOk);
    REQUIRE(decompress_records(batch, out) == BatchError::kOk);
    CHECK(out == raw);
    CHECK(decompress_records(batch, out, 10) == BatchError::kDecompression);
  }
  SUBCASE("lz4") {
    std::string lz(LZ4F_compressFrameBound(raw.size(), nullptr), '\0');
    size_t n = LZ4F_compressFrame(lz.data(), lz.size(), raw.data(), raw.size(), nullptr);
    REQUIRE_FALSE(LZ4F_isError(n));
    lz.resize(n);
    REQUIRE(decompress_records(with_payload(kPythonBatch, lz, 3), out) == BatchError::kOk);
    CHECK(out == raw);
    CHECK(decompress_records(with_payload(kPythonBatch, lz.substr(0, n - 3), 3), out) ==
          BatchError::kDecompression);
  }
  SUBCASE("zstd") {
    std::string z(ZSTD_compressBound(raw.size()), '\0');
    size_t n = ZSTD_compress(z.data(), z.size(), raw.data(), raw.size(), 3);
    REQUIRE_FALSE(ZSTD_isError(n));
    z.resize(n);
    std::string batch = with_payload(kPythonBatch, z, 4);
    REQUIRE(decompress_records(batch, out) == BatchError::kOk);
    CHECK(out == raw);
    RecordIterator it(out, 2);
    Record r;
    REQUIRE(it.next(r));
    CHECK(r.value == std::optional<std::string_view>("hello"));
  }
  SUBCASE("snappy") {
    CHECK(decompress_records(with_payload(kPythonBatch, "xx", 2), out) ==
          BatchError::kUnsupportedCompression);
  }
}
