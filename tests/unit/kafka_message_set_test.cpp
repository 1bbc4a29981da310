// Legacy message sets (magic 0 and 1): the Produce-side conversion into a
// magic-2 batch (CRC-32 checked, compressed wrappers unpacked) and the
// Fetch-side down-conversion of stored batches.
#include <doctest/doctest.h>

#include <zlib.h>

#include <string>

#include "kafka/protocol/io.h"
#include "kafka/protocol/message_set.h"

using namespace dmq::kafka;

namespace {

std::string message(int8_t magic, int64_t offset, int64_t ts, std::optional<std::string_view> key,
                    std::optional<std::string_view> value, int8_t attributes = 0) {
  Writer body;
  body.i8(magic);
  body.i8(attributes);
  if (magic == 1) body.i64(ts);
  for (const auto& b : {key, value}) {
    body.i32(b ? static_cast<int32_t>(b->size()) : -1);
    if (b) body.raw(*b);
  }
  Writer w;
  w.i64(offset);
  w.i32(static_cast<int32_t>(body.size() + 4));
  w.u32(static_cast<uint32_t>(::crc32(0L, reinterpret_cast<const Bytef*>(body.bytes().data()),
                                      static_cast<uInt>(body.size()))));
  w.raw(body.bytes());
  return w.take_bytes();
}

std::string gzip(std::string_view in) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(in.size() + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The records view `payload`, which must outlive them.
std::vector<Record> records_of(const std::string& batch, std::string& payload) {
  REQUIRE(decompress_records(batch, payload) == BatchError::kOk);
  BatchHeader h;
  REQUIRE(read_batch_header(batch, h) == BatchError::kOk);
  RecordIterator it(payload, h.record_count);
  std::vector<Record> out;
  Record r;
  while (it.next(r)) out.push_back(r);
  REQUIRE(it.done());
  return out;
}

}  // namespace

TEST_CASE("magic 0 and 1 message sets convert to one magic-2 batch") {
  std::string set = message(0, 0, -1, std::string_view("k0"), std::string_view("v0")) +
                    message(1, 1, 1700000000123, std::nullopt, std::string_view("v1"));
  CHECK(records_magic(set) == 0);
  LegacyConversion c = convert_message_set(set, 1 << 20);
  REQUIRE(c.error == BatchError::kOk);
  CHECK(c.record_count == 2);
  RecordSetInfo info = validate_record_set(c.batch, BatchLimits{});
  CHECK(info.error == BatchError::kOk);
  CHECK(records_magic(c.batch) == 2);
  // Views into the converted batch stay valid while `c` lives.
  std::string payload;
  REQUIRE(decompress_records(c.batch, payload) == BatchError::kOk);
  BatchHeader h;
  REQUIRE(read_batch_header(c.batch, h) == BatchError::kOk);
  RecordIterator it(payload, h.record_count);
  Record r;
  REQUIRE(it.next(r));
  CHECK(*r.key == "k0");
  CHECK(*r.value == "v0");
  CHECK(h.base_timestamp + r.timestamp_delta == -1);  // magic 0 has no timestamp
  REQUIRE(it.next(r));
  CHECK(!r.key);
  CHECK(h.base_timestamp + r.timestamp_delta == 1700000000123);
}

TEST_CASE("a gzip wrapper message is unpacked") {
  std::string inner = message(1, 0, 5, std::nullopt, std::string_view("a")) +
                      message(1, 1, 6, std::nullopt, std::string_view("b"));
  std::string wrapper = message(1, 1, 6, std::nullopt, gzip(inner), /*attributes=gzip*/ 1);
  LegacyConversion c = convert_message_set(wrapper, 1 << 20);
  REQUIRE(c.error == BatchError::kOk);
  std::string payload;
  auto recs = records_of(c.batch, payload);
  REQUIRE(recs.size() == 2);
  CHECK(*recs[1].value == "b");
}

TEST_CASE("bad old message sets are refused with Kafka's errors") {
  std::string good = message(0, 0, -1, std::nullopt, std::string_view("v"));
  std::string bad_crc = good;
  bad_crc.back() ^= 1;
  CHECK(convert_message_set(good + bad_crc, 1 << 20).error == BatchError::kBadCrc);
  CHECK(to_error_code(BatchError::kBadCrc) == ErrorCode::kCorruptMessage);
  CHECK(convert_message_set(good.substr(0, good.size() - 1), 1 << 20).error ==
        BatchError::kTruncated);
  CHECK(convert_message_set(good + "xyz", 1 << 20).error == BatchError::kTruncated);
  CHECK(convert_message_set("", 1 << 20).error == BatchError::kBatchCount);
  std::string bad_magic = message(3, 0, -1, std::nullopt, std::string_view("v"));
  CHECK(convert_message_set(bad_magic, 1 << 20).error == BatchError::kBadMagic);
  std::string snappy = message(1, 0, 1, std::nullopt, std::string_view("zz"), 2);
  CHECK(convert_message_set(snappy, 1 << 20).error == BatchError::kUnsupportedCompression);
  std::string not_gzip = message(1, 0, 1, std::nullopt, std::string_view("zz"), 1);
  CHECK(to_error_code(convert_message_set(not_gzip, 1 << 20).error) == ErrorCode::kCorruptMessage);
  // A compressed message inside a compressed message: one level only.
  std::string nested = message(1, 0, 1, std::nullopt, gzip(not_gzip), 1);
  CHECK(to_error_code(convert_message_set(nested, 1 << 20).error) == ErrorCode::kCorruptMessage);
  CHECK(convert_message_set(good, 10).error == BatchError::kTooLarge);
}

TEST_CASE("stored batches down-convert to magic 0 and 1 from the fetch offset") {
  RecordBatchBuilder::Options o;
  o.base_offset = 10;
  RecordBatchBuilder b(o);
  b.add(1000, std::string_view("k"), std::string_view("a"), {{"h", std::string_view("x")}});
  b.add(1001, std::nullopt, std::string_view("b"));
  b.add(1002, std::string_view("k2"), std::nullopt);
  std::string batch = b.build();
  for (int8_t magic : {0, 1}) {
    CAPTURE(magic);
    DownConversion d = down_convert(batch + batch.substr(0, 30), magic, 11, 1 << 20);
    REQUIRE(d.error == BatchError::kOk);
    CHECK(d.messages == 2);
    CHECK(records_magic(d.message_set) == magic);
    // The old format converts back to the same records, offsets kept.
    LegacyConversion back = convert_message_set(d.message_set, 1 << 20);
    REQUIRE(back.error == BatchError::kOk);
    std::string payload;
    auto recs = records_of(back.batch, payload);
    REQUIRE(recs.size() == 2);
    CHECK(*recs[0].value == "b");
    CHECK(!recs[1].value);
    CHECK(*recs[1].key == "k2");
    Reader r(d.message_set);
    CHECK(r.i64() == 11);
  }
  // max_bytes cuts between messages, but the first always comes.
  CHECK(down_convert(batch, 1, 0, 1).messages == 1);
  CHECK(down_convert(batch, 1, 13, 1 << 20).messages == 0);
}
