// Client-side batches: compressed batches the codec's validator accepts and
// its decompressor reads back, and walking a fetched record set from an offset.

#include <doctest/doctest.h>

#include "client/bench_stats.h"
#include "client/records.h"
#include "kafka/protocol/record_batch.h"

using namespace dmq::client;
namespace kafka = dmq::kafka;

namespace {

std::string batch_of(int64_t base_offset, int count) {
  kafka::RecordBatchBuilder::Options o;
  o.base_offset = base_offset;
  kafka::RecordBatchBuilder b(o);
  for (int i = 0; i < count; ++i) {
    std::string v = "value-" + std::to_string(base_offset + i);
    b.add(1000 + i, std::string_view("k"), std::string_view(v), {{"h", std::string_view("x")}});
  }
  return b.build();
}

}  // namespace

TEST_CASE("compressed batches validate and read back for every codec") {
  for (auto name : {"none", "gzip", "lz4", "zstd"}) {
    CAPTURE(name);
    auto codec = parse_compression(name);
    REQUIRE(codec.has_value());
    std::string batch = compress_batch(batch_of(0, 50), *codec);
    auto info = kafka::validate_record_set(batch, kafka::BatchLimits{});
    CHECK(info.error == kafka::BatchError::kOk);
    CHECK(info.record_count == 50);
    CHECK(info.first.compression() == *codec);
    int64_t seen = 0;
    auto walk = walk_records(batch, "t", 0, 0, [&seen](const Message& m) {
      CHECK(m.offset == seen);
      CHECK(*m.value == "value-" + std::to_string(seen));
      CHECK(m.headers.size() == 1);
      ++seen;
      return true;
    });
    CHECK(walk.error == kafka::BatchError::kOk);
    CHECK(seen == 50);
    CHECK(walk.next_offset == 50);
  }
  CHECK_FALSE(parse_compression("snappy").has_value());
}

TEST_CASE("walking skips records before the position and ignores a cut last batch") {
  std::string bytes = batch_of(0, 10) + batch_of(10, 10);
  std::string cut = bytes + batch_of(20, 10).substr(0, 30);
  std::vector<int64_t> offsets;
  auto walk = walk_records(cut, "t", 0, 7, [&offsets](const Message& m) {
    offsets.push_back(m.offset);
    return true;
  });
  CHECK(walk.error == kafka::BatchError::kOk);
  CHECK(offsets.size() == 13);
  CHECK(offsets.front() == 7);
  CHECK(offsets.back() == 19);
  CHECK(walk.next_offset == 20);
}

TEST_CASE("walking stops when the callback says so") {
  std::string bytes = batch_of(0, 10);
  int n = 0;
  auto walk = walk_records(bytes, "t", 0, 0, [&n](const Message&) { return ++n < 3; });
  CHECK(n == 3);
  CHECK(walk.next_offset == 3);
}

TEST_CASE("latency percentiles use the nearest rank") {
  std::vector<int64_t> us;
  for (int i = 1000; i >= 1; --i) us.push_back(i * 1000);  // 1..1000 ms, unsorted
  auto s = summarize_latency(us);
  CHECK(s.samples == 1000);
  CHECK(s.p50_ms == doctest::Approx(500));
  CHECK(s.p99_ms == doctest::Approx(990));
  CHECK(s.p999_ms == doctest::Approx(999));
  CHECK(s.max_ms == doctest::Approx(1000));
  CHECK(s.mean_ms == doctest::Approx(500.5));
  std::vector<int64_t> none;
  CHECK(summarize_latency(none).samples == 0);
  BenchResult r;
  r.records = 1000;
  r.bytes = 2 << 20;
  r.elapsed_us = 2000000;
  CHECK(r.records_per_s() == doctest::Approx(500));
  CHECK(r.mb_per_s() == doctest::Approx(1.0));
}
