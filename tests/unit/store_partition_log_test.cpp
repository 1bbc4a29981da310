// PartitionLog: offsets, reads, roll, retention, indexes, truncation,
// recovery, checkpoints and leader epochs, on the in-memory and fault envs.
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "common/log.h"
#include "store/partition_log.h"
#include "store_test_batches.h"

using namespace dmq::store;
using dmq::store::test::BatchSpec;
using dmq::store::test::make_batch;

namespace {

// Recovery and retention log at info; keep test output to failures.
const bool kQuietLogs = [] {
  dmq::log::configure(dmq::log::Level::kError, dmq::log::Format::kText);
  return true;
}();

const std::string kDir = "/data/logs/orders-0";

std::shared_ptr<PartitionLog> open_log(FileEnv& env, const PartitionLogConfig& config,
                                       int64_t now_ms = 0) {
  auto r = PartitionLog::open(env, kDir, config, now_ms);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.status().message));
  return r.value();
}

AppendInfo append_one(PartitionLog& log, BatchSpec spec, int64_t now_ms = 0) {
  std::string b = make_batch(spec);
  auto r = log.append(std::span<char>(b.data(), b.size()), now_ms);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.status().message));
  return r.value();
}

std::string slice_bytes(const FileSlice& slice) {
  std::string out;
  REQUIRE(PartitionLog::read_into(slice, &out).ok());
  return out;
}

// Every byte of the log from `from` to its end, read slice by slice.
std::string read_everything(PartitionLog& log, Offset from) {
  std::string all;
  Offset next = from;
  while (next < log.log_end_offset()) {
    auto r = log.read(next, 1 << 20);
    REQUIRE(r.ok());
    REQUIRE(r.value().slice.length > 0);
    all += slice_bytes(r.value().slice);
    next = r.value().next_offset;
  }
  return all;
}

// The batch headers in `bytes`, by a linear walk.
std::vector<format::BatchHeader> walk(std::string_view bytes) {
  std::vector<format::BatchHeader> out;
  while (!bytes.empty()) {
    auto h = format::parse_batch_header(bytes);
    REQUIRE(h.has_value());
    REQUIRE(format::batch_crc_ok(bytes.substr(0, h->total_bytes)));
    out.push_back(*h);
    bytes.remove_prefix(h->total_bytes);
  }
  return out;
}

}  // namespace

TEST_CASE("append assigns offsets by patching base offsets, keeping CRCs valid") {
  MemFileEnv env;
  auto log = open_log(env, {});
  CHECK(log->log_end_offset() == Offset(0));
  auto a = append_one(*log, {.base_offset = 77, .records = 5, .total_bytes = 200});
  CHECK(a.base_offset == Offset(0));
  CHECK(a.last_offset == Offset(4));
  CHECK(a.log_end_offset == Offset(5));

  // Two batches in one call: one write, both patched in the caller's buffer.
  std::string two = make_batch({.base_offset = 9, .records = 3, .total_bytes = 150}) +
                    make_batch({.base_offset = 9, .records = 2, .total_bytes = 90});
  auto r = log->append(std::span<char>(two.data(), two.size()), 0);
  REQUIRE(r.ok());
  CHECK(r.value().base_offset == Offset(5));
  CHECK(r.value().last_offset == Offset(9));
  CHECK(r.value().batch_count == 2);
  CHECK(format::get_be64(two.data()) == 5);
  CHECK(format::get_be64(two.data() + 150) == 8);

  auto headers = walk(read_everything(*log, Offset(0)));  // walk() checks every CRC
  REQUIRE(headers.size() == 3);
  CHECK(headers[0].base_offset == Offset(0));
  CHECK(headers[1].base_offset == Offset(5));
  CHECK(headers[2].base_offset == Offset(8));
  CHECK(headers[2].last_offset() == Offset(9));
}

TEST_CASE("append rejects bad framing without writing anything") {
  MemFileEnv env;
  auto log = open_log(env, {});
  std::string b = make_batch({.total_bytes = 100});
  std::string cut = b.substr(0, 80);
  CHECK(log->append(std::span<char>(cut.data(), cut.size()), 0).error() == LogError::kCorruptBatch);
  std::string bad_magic = b;
  bad_magic[dmq::batch_layout::kMagic] = 1;
  CHECK(log->append(std::span<char>(bad_magic.data(), bad_magic.size()), 0).error() ==
        LogError::kCorruptBatch);
  std::string empty;
  CHECK(log->append(std::span<char>(empty.data(), 0), 0).error() == LogError::kCorruptBatch);
  CHECK(log->log_end_offset() == Offset(0));
  CHECK(log->size_bytes() == 0);
}

TEST_CASE("read returns whole batches from the one holding the start offset") {
  MemFileEnv env;
  auto log = open_log(env, {});
  for (int i = 0; i < 10; ++i) append_one(*log, {.records = 4, .total_bytes = 100});  // 0..39

  auto r = log->read(Offset(13), 1);  // max_bytes below one batch: still one batch (KIP-74)
  REQUIRE(r.ok());
  CHECK(r.value().first_offset == Offset(12));
  CHECK(r.value().next_offset == Offset(16));
  CHECK(r.value().slice.length == 100);
  CHECK(r.value().slice.position == 300);

  r = log->read(Offset(13), 250);
  REQUIRE(r.ok());
  CHECK(r.value().slice.length == 200);
  CHECK(r.value().next_offset == Offset(20));

  r = log->read(Offset(0), 1 << 20, Offset(20));  // bounded by a high watermark
  REQUIRE(r.ok());
  CHECK(r.value().slice.length == 500);
  CHECK(r.value().next_offset == Offset(20));

  r = log->read(Offset(40), 1000);  // at the log end: empty, not an error
  REQUIRE(r.ok());
  CHECK(r.value().slice.length == 0);

  CHECK(log->read(Offset(41), 1000).error() == LogError::kOffsetOutOfRange);
  CHECK(log->read(Offset(-1), 1000).error() == LogError::kOffsetOutOfRange);
}

TEST_CASE("follower append keeps offsets; they must grow, gaps from compaction allowed") {
  MemFileEnv env;
  auto log = open_log(env, {});
  std::string b0 = make_batch({.base_offset = 0, .records = 3});
  std::string b2 = make_batch({.base_offset = 2, .records = 1});
  std::string b3 = make_batch({.base_offset = 3, .records = 2});
  REQUIRE(log->append_as_follower(b0, 0).ok());
  // Below the log end: the replica holds something else there and must truncate.
  CHECK(log->append_as_follower(b2, 0).error() == LogError::kNonContiguous);
  auto r = log->append_as_follower(b3, 0);
  REQUIRE(r.ok());
  CHECK(r.value().log_end_offset == Offset(5));
  std::string backwards =
      make_batch({.base_offset = 7, .records = 1}) + make_batch({.base_offset = 6, .records = 1});
  CHECK(log->append_as_follower(backwards, 0).error() == LogError::kCorruptBatch);
  std::string flipped = make_batch({.base_offset = 5, .records = 1});
  flipped.back() ^= 1;
  CHECK(log->append_as_follower(flipped, 0).error() == LogError::kCorruptBatch);
  CHECK(log->log_end_offset() == Offset(5));
  // A leader's cleaner leaves gaps (store/CLEANER.md): offsets 5..8 and 10
  // are gone there, so the follower's next batches start past its log end.
  std::string gaps =
      make_batch({.base_offset = 9, .records = 1}) + make_batch({.base_offset = 11, .records = 1});
  r = log->append_as_follower(gaps, 0);
  REQUIRE(r.ok());
  CHECK(r.value().log_end_offset == Offset(12));
  auto read = log->read(Offset(5), 1 << 20);
  REQUIRE(read.ok());
  CHECK(read.value().first_offset == Offset(9));
}

TEST_CASE("segments roll by size and by time, named by base offset") {
  MemFileEnv env;
  PartitionLogConfig config;
  config.segment_bytes = 1000;
  config.segment_ms = 100;
  auto log = open_log(env, config);
  for (int i = 0; i < 7; ++i) append_one(*log, {.records = 2, .total_bytes = 300});
  // 3 batches (900 bytes) fit a segment; the 4th would pass 1000.
  CHECK(log->segment_count() == 3);
  CHECK(env.exists(kDir + "/00000000000000000000.log"));
  CHECK(env.exists(kDir + "/00000000000000000006.log"));
  CHECK(env.exists(kDir + "/00000000000000000012.log"));
  CHECK(env.exists(kDir + "/00000000000000000012.index"));
  CHECK(env.exists(kDir + "/00000000000000000012.timeindex"));
  CHECK(walk(read_everything(*log, Offset(0))).size() == 7);

  // Time: the active segment got its first batch at t=0; at t=99 it stays, at t=100 it rolls.
  append_one(*log, {.records = 1, .total_bytes = 61}, 99);
  CHECK(log->segment_count() == 3);
  append_one(*log, {.records = 1, .total_bytes = 61}, 100);
  CHECK(log->segment_count() == 4);
  append_one(*log, {.records = 1, .total_bytes = 61}, 150);
  CHECK(log->segment_count() == 4);
}

TEST_CASE("retention deletes whole old segments, never the active one") {
  MemFileEnv env;
  PartitionLogConfig config;
  config.segment_bytes = 1000;
  config.retention_ms = 10'000;
  auto log = open_log(env, config);
  // Segments of 3 batches; timestamps 1000.., one per batch.
  for (int i = 0; i < 9; ++i) {
    append_one(*log, {.records = 1, .max_timestamp_ms = 1000 + i, .total_bytes = 300});
  }
  REQUIRE(log->segment_count() == 3);
  // retention.ms = 10000 against each segment's max timestamp (1002, 1005, 1008):
  // at 11003 only the first is older.
  auto r = log->maybe_apply_retention(11'003);
  REQUIRE(r.ok());
  CHECK(r.value() == 1);
  CHECK(log->log_start_offset() == Offset(3));
  CHECK(!env.exists(kDir + "/00000000000000000000.log"));
  CHECK(log->read(Offset(2), 100).error() == LogError::kOffsetOutOfRange);
  CHECK(log->read(Offset(3), 100).ok());

  r = log->maybe_apply_retention(1'000'000);  // everything is old, but the active segment stays
  REQUIRE(r.ok());
  CHECK(r.value() == 1);
  CHECK(log->segment_count() == 1);
  CHECK(log->log_start_offset() == Offset(6));
  CHECK(log->log_end_offset() == Offset(9));
}

TEST_CASE("retention by bytes keeps the newest segments within the limit") {
  MemFileEnv env;
  PartitionLogConfig config;
  config.segment_bytes = 1000;
  config.retention_ms = -1;
  config.retention_bytes = 1800;
  auto log = open_log(env, config);
  for (int i = 0; i < 10; ++i) append_one(*log, {.records = 1, .total_bytes = 300});
  // Segments of 900, 900, 900 and 300 bytes (3000). Kafka's rule deletes the
  // oldest while the rest still holds retention.bytes: 3000 - 900 = 2100 >= 1800
  // goes; 2100 - 900 = 1200 < 1800 stops.
  auto r = log->maybe_apply_retention(0);
  REQUIRE(r.ok());
  CHECK(r.value() == 1);
  CHECK(log->size_bytes() == 2100);
  CHECK(log->log_start_offset() == Offset(3));
  config.retention_bytes = 0;
  log.reset();
  auto log2 = open_log(env, config);  // reopen with a tighter limit: all but the active segment
  REQUIRE(log2->maybe_apply_retention(0).ok());
  CHECK(log2->segment_count() == 1);
  CHECK(log2->log_start_offset() == Offset(9));
  CHECK(log2->log_end_offset() == Offset(10));
}

namespace {

// A log of `count` batches of random sizes and record counts, plus the truth
// about it from the batches themselves.
struct Expected {
  std::vector<int64_t> base;  // per batch
  std::vector<int64_t> last;
  std::vector<int64_t> max_ts;
  std::vector<uint64_t> position;  // within its segment
};

Expected fill_random(PartitionLog& log, int count, uint32_t seed) {
  std::mt19937 rng(seed);
  Expected e;
  int64_t ts = 10'000;
  for (int i = 0; i < count; ++i) {
    int32_t records = 1 + static_cast<int32_t>(rng() % 20);
    size_t bytes = 61 + rng() % 3000;
    // Timestamps mostly rise but sometimes go back, as producers' clocks do.
    ts += static_cast<int64_t>(rng() % 100) - 20;
    auto a = append_one(log, {.records = records, .max_timestamp_ms = ts, .total_bytes = bytes});
    e.base.push_back(a.base_offset.value);
    e.last.push_back(a.last_offset.value);
    e.max_ts.push_back(ts);
  }
  return e;
}

void check_lookups_match_linear_scan(PartitionLog& log, const Expected& e) {
  for (size_t i = 0; i < e.base.size(); ++i) {
    for (int64_t o : {e.base[i], (e.base[i] + e.last[i]) / 2, e.last[i]}) {
      auto r = log.read(Offset(o), 1);
      REQUIRE(r.ok());
      CHECK(r.value().first_offset == Offset(e.base[i]));
      CHECK(r.value().next_offset == Offset(e.last[i] + 1));
      auto headers = walk(slice_bytes(r.value().slice));
      REQUIRE(headers.size() == 1);
      CHECK(headers[0].base_offset == Offset(e.base[i]));
    }
  }
  // ListOffsets by time: the first batch whose max timestamp reaches the target.
  int64_t lo = *std::min_element(e.max_ts.begin(), e.max_ts.end()) - 5;
  int64_t hi = *std::max_element(e.max_ts.begin(), e.max_ts.end()) + 5;
  for (int64_t t = lo; t <= hi; t += 7) {
    auto r = log.offset_for_timestamp(t);
    REQUIRE(r.ok());
    size_t i = 0;
    while (i < e.max_ts.size() && e.max_ts[i] < t) ++i;
    if (i == e.max_ts.size()) {
      CHECK(!r.value().has_value());
    } else {
      REQUIRE(r.value().has_value());
      CHECK(r.value()->offset == Offset(e.base[i]));
      CHECK(r.value()->timestamp_ms == e.max_ts[i]);
    }
  }
}

}  // namespace

TEST_CASE("offset and time index lookups agree with a linear scan, before and after reopen") {
  MemFileEnv env;
  PartitionLogConfig config;
  config.segment_bytes = 256 * 1024;
  config.retention_ms = -1;
  auto log = open_log(env, config);
  Expected e = fill_random(*log, 1500, 7);
  REQUIRE(log->segment_count() > 3);
  check_lookups_match_linear_scan(*log, e);

  SUBCASE("reopen after flush and checkpoint: indexes are loaded, not rebuilt") {
    REQUIRE(log->flush().ok());
    REQUIRE(log->checkpoint(log->log_end_offset()).ok());
    log.reset();
    log = open_log(env, config);
  }
  SUBCASE("reopen without a checkpoint: every segment is scanned") {
    log.reset();
    log = open_log(env, config);
  }
  SUBCASE("reopen with index files missing: they are rebuilt") {
    log.reset();
    std::vector<std::string> names;
    REQUIRE(env.list(kDir, &names).ok());
    for (const auto& n : names) {
      if (n.ends_with(".index") || n.ends_with(".timeindex"))
        REQUIRE(env.remove(kDir + "/" + n).ok());
    }
    log = open_log(env, config);
  }
  CHECK(log->log_end_offset() == Offset(e.last.back() + 1));
  check_lookups_match_linear_scan(*log, e);
  // Appends continue where the recovered log ends.
  auto a = append_one(*log, {.records = 2});
  CHECK(a.base_offset == Offset(e.last.back() + 1));
}

TEST_CASE("truncate_to cuts at the batch holding the offset, across segments") {
  MemFileEnv env;
  PartitionLogConfig config;
  config.segment_bytes = 1000;
  auto log = open_log(env, config);
  for (int i = 0; i < 10; ++i) append_one(*log, {.records = 5, .total_bytes = 300});  // 0..49
  REQUIRE(log->segment_count() == 4);

  REQUIRE(log->truncate_to(Offset(32)).ok());  // inside batch 30..34
  CHECK(log->log_end_offset() == Offset(30));
  CHECK(log->segment_count() == 3);  // 0, 15 and 30 (now empty and active); 45 went
  CHECK(!env.exists(kDir + "/00000000000000000045.log"));
  CHECK(walk(read_everything(*log, Offset(0))).size() == 6);
  auto a = append_one(*log, {.records = 1, .total_bytes = 300});
  CHECK(a.base_offset == Offset(30));

  REQUIRE(log->truncate_to(Offset(17)).ok());
  CHECK(log->log_end_offset() == Offset(15));
  CHECK(log->read(Offset(15), 100).value().slice.length == 0);
  CHECK(log->read(Offset(10), 100).value().first_offset == Offset(10));

  REQUIRE(log->truncate_to(Offset(100)).ok());  // beyond the end: nothing to do
  CHECK(log->log_end_offset() == Offset(15));

  REQUIRE(log->truncate_to(Offset(0)).ok());  // everything
  CHECK(log->log_end_offset() == Offset(0));
  CHECK(log->segment_count() == 1);
  CHECK(append_one(*log, {.records = 2}).base_offset == Offset(0));

  // A reopened log agrees.
  log.reset();
  log = open_log(env, config);
  CHECK(log->log_end_offset() == Offset(2));
}

TEST_CASE("recovery cuts a torn or corrupt tail and keeps the good prefix") {
  MemFileEnv env;
  auto log = open_log(env, {});
  for (int i = 0; i < 5; ++i) append_one(*log, {.records = 2, .total_bytes = 200});  // 0..9
  log.reset();
  std::unique_ptr<File> file;
  REQUIRE(env.open(kDir + "/00000000000000000000.log", false, &file).ok());

  SUBCASE("half a batch at the end") {
    std::string next = make_batch({.base_offset = 10, .total_bytes = 200});
    REQUIRE(file->write_at(1000, next.substr(0, 120)).ok());
    log = open_log(env, {});
    CHECK(log->log_end_offset() == Offset(10));
  }
  SUBCASE("a header cut inside its first 61 bytes") {
    std::string next = make_batch({.base_offset = 10, .total_bytes = 200});
    REQUIRE(file->write_at(1000, next.substr(0, 30)).ok());
    log = open_log(env, {});
    CHECK(log->log_end_offset() == Offset(10));
  }
  SUBCASE("a flipped byte in the last batch's records") {
    char c = 'Z';
    REQUIRE(file->write_at(950, std::string_view(&c, 1)).ok());
    log = open_log(env, {});
    CHECK(log->log_end_offset() == Offset(8));
  }
  SUBCASE("zeros after the last batch (a preallocated or torn block)") {
    REQUIRE(file->write_at(1000, std::string(4096, '\0')).ok());
    log = open_log(env, {});
    CHECK(log->log_end_offset() == Offset(10));
  }
  uint64_t size = 0;
  REQUIRE(file->size(&size).ok());
  CHECK(size == log->size_bytes());
  CHECK(walk(read_everything(*log, Offset(0))).size() == log->log_end_offset().value / 2);
  Offset end = log->log_end_offset();
  CHECK(append_one(*log, {.records = 2}).base_offset == end);
}

TEST_CASE("power off: the flushed prefix survives, unflushed batches vanish or are cut cleanly") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  PartitionLogConfig config;
  config.segment_bytes = 1000;
  auto log = open_log(env, config);
  for (int i = 0; i < 4; ++i)
    append_one(*log, {.records = 1, .total_bytes = 300});  // 0..3, 2 segments
  auto flushed = log->flush();
  REQUIRE(flushed.ok());
  CHECK(flushed.value() == Offset(4));
  CHECK(log->durable_end_offset() == Offset(4));
  std::string acknowledged = read_everything(*log, Offset(0));
  // Unflushed: two more in the second segment, then a roll into a third.
  for (int i = 0; i < 4; ++i) append_one(*log, {.records = 1, .total_bytes = 300});
  REQUIRE(log->segment_count() == 3);

  uint64_t torn = 0;
  SUBCASE("clean loss") {
    torn = 0;
  }
  SUBCASE("a torn write: 450 unsynced bytes reach the disk, ending mid-batch") {
    torn = 450;
  }
  env.power_off(torn);
  CHECK(log->append(std::span<char>(), 0).error() != LogError::kOk);
  log.reset();
  log = open_log(env, config);
  Offset end = log->log_end_offset();
  CHECK(end >= Offset(4));
  if (torn == 0) CHECK(end == Offset(4));
  if (torn == 450) CHECK(end == Offset(5));  // 300 whole bytes of batch 4, batch 5 cut at 150
  std::string recovered = read_everything(*log, Offset(0));
  CHECK(recovered.substr(0, acknowledged.size()) == acknowledged);
  walk(recovered);
  // The recovered log takes appends, and they survive the next power loss once flushed.
  auto a = append_one(*log, {.records = 3, .total_bytes = 300});
  CHECK(a.base_offset == end);
  REQUIRE(log->flush().ok());
  env.power_off();
  log.reset();
  log = open_log(env, config);
  CHECK(log->log_end_offset() == Offset(end.value + 3));
}

TEST_CASE("power off right after a roll: an unsynced new segment file disappears") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  PartitionLogConfig config;
  config.segment_bytes = 1000;
  auto log = open_log(env, config);
  for (int i = 0; i < 3; ++i) append_one(*log, {.records = 1, .total_bytes = 300});
  REQUIRE(log->flush().ok());
  append_one(*log, {.records = 1, .total_bytes = 300});  // rolls to segment 3
  CHECK(env.exists(kDir + "/00000000000000000003.log"));
  env.power_off();
  CHECK(!env.exists(kDir + "/00000000000000000003.log"));
  log.reset();
  log = open_log(env, config);
  CHECK(log->log_end_offset() == Offset(3));
  CHECK(append_one(*log, {.records = 1, .total_bytes = 300}).base_offset == Offset(3));
}

TEST_CASE("a failed fsync closes the log for good") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  auto log = open_log(env, {});
  append_one(*log, {.records = 1});
  REQUIRE(log->flush().ok());
  append_one(*log, {.records = 1});
  env.fail_syncs(".log", 1);
  auto f = log->flush();
  CHECK(f.error() == LogError::kStorageFailed);
  CHECK(log->durable_end_offset() == Offset(1));
  std::string b = make_batch({.records = 1});
  CHECK(log->append(std::span<char>(b.data(), b.size()), 0).error() == LogError::kStorageFailed);
  // No retry can turn it into a success: the next flush fails too.
  CHECK(log->flush().error() == LogError::kStorageFailed);
  REQUIRE(log->failure().has_value());
}

TEST_CASE("a write the disk refuses is undone: no half batch, the log takes the next append") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  auto log = open_log(env, {});
  append_one(*log, {.records = 1, .total_bytes = 200});
  // ENOSPC or EIO after 50 of 200 bytes.
  env.short_write_next(".log", 50);
  std::string b = make_batch({.records = 1, .total_bytes = 200});
  CHECK(log->append(std::span<char>(b.data(), b.size()), 0).error() == LogError::kWriteFailed);
  CHECK(!log->failure());
  CHECK(log->log_end_offset() == Offset(1));
  CHECK(log->size_bytes() == 200);
  std::unique_ptr<File> f;
  REQUIRE(env.open(kDir + "/00000000000000000000.log", false, &f).ok());
  uint64_t on_disk = 0;
  REQUIRE(f->size(&on_disk).ok());
  CHECK(on_disk == 200);  // the 50 bytes written are cut off again
  // Space is back: the next append lands where the refused one would have.
  auto info = log->append(std::span<char>(b.data(), b.size()), 0);
  REQUIRE(info.ok());
  CHECK(info.value().base_offset == Offset(1));
  REQUIRE(log->flush().ok());
  log.reset();
  log = open_log(env, {});
  CHECK(log->log_end_offset() == Offset(2));
  CHECK(log->size_bytes() == 400);
}

TEST_CASE("checkpoint stores the high watermark and log start offset atomically") {
  MemFileEnv env;
  PartitionLogConfig config;
  config.segment_bytes = 1000;
  config.retention_bytes = 0;
  auto log = open_log(env, config);
  for (int i = 0; i < 7; ++i) append_one(*log, {.records = 1, .total_bytes = 300});
  REQUIRE(log->maybe_apply_retention(0).ok());
  CHECK(log->log_start_offset() == Offset(6));
  REQUIRE(log->flush().ok());
  REQUIRE(log->checkpoint(Offset(5)).ok());
  CHECK(!env.exists(kDir + "/partition.checkpoint.tmp"));
  log.reset();
  log = open_log(env, config);
  CHECK(log->checkpointed_high_watermark() == Offset(5));
  CHECK(log->log_start_offset() == Offset(6));

  // A high watermark beyond what recovery kept is clamped to the log end.
  REQUIRE(log->checkpoint(Offset(7)).ok());
  REQUIRE(log->truncate_to(Offset(6)).ok());
  log.reset();
  log = open_log(env, config);
  CHECK(log->checkpointed_high_watermark() == Offset(6));

  // A garbage checkpoint is an error, not a guess.
  log.reset();
  std::unique_ptr<File> f;
  REQUIRE(env.open(kDir + "/partition.checkpoint", false, &f).ok());
  REQUIRE(f->write_at(0, "garbage").ok());
  CHECK(PartitionLog::open(env, kDir, config, 0).error() == LogError::kCorruptState);
}

TEST_CASE("leader epochs: recorded from batches, answered, truncated and persisted") {
  MemFileEnv env;
  auto log = open_log(env, {});
  append_one(*log, {.records = 5, .leader_epoch = 1});  // 0..4
  append_one(*log, {.records = 5, .leader_epoch = 1});  // 5..9
  append_one(*log, {.records = 5, .leader_epoch = 3});  // 10..14
  log->assign_epoch(LeaderEpoch(4), Offset(15));        // a new leader with no data yet
  CHECK(log->latest_epoch() == LeaderEpoch(4));

  EpochEndOffset e = log->end_offset_for_epoch(LeaderEpoch(1));
  CHECK(e.epoch == LeaderEpoch(1));
  CHECK(e.end_offset == Offset(10));
  e = log->end_offset_for_epoch(LeaderEpoch(2));  // unknown epoch between: the one before it
  CHECK(e.epoch == LeaderEpoch(1));
  CHECK(e.end_offset == Offset(10));
  e = log->end_offset_for_epoch(LeaderEpoch(4));  // latest: the log end
  CHECK(e.end_offset == Offset(15));
  e = log->end_offset_for_epoch(LeaderEpoch(0));  // older than all
  CHECK(e.epoch == LeaderEpoch(0));
  CHECK(e.end_offset == Offset(0));
  e = log->end_offset_for_epoch(LeaderEpoch(9));  // newer than all
  CHECK(e.epoch == LeaderEpoch(-1));
  CHECK(e.end_offset == Offset(-1));

  REQUIRE(log->flush().ok());
  log.reset();
  log = open_log(env, {});
  CHECK(log->end_offset_for_epoch(LeaderEpoch(1)).end_offset == Offset(10));
  CHECK(log->end_offset_for_epoch(LeaderEpoch(3)).end_offset == Offset(15));

  REQUIRE(log->truncate_to(Offset(10)).ok());  // the epoch 3 batch goes, and so does the epoch
  CHECK(log->latest_epoch() == LeaderEpoch(1));
  CHECK(log->end_offset_for_epoch(LeaderEpoch(1)).end_offset == Offset(10));
}

TEST_CASE("retention by time after a restart uses the max timestamps kept in the time indexes") {
  MemFileEnv env;
  PartitionLogConfig config;
  config.segment_bytes = 1000;
  config.retention_ms = 10'000;
  auto log = open_log(env, config);
  // Timestamps fall within each segment, so the max is not the last batch's.
  for (int64_t ts : {5000, 1000, 1000, 2000, 9000, 1000, 3000, 3000, 3000}) {
    append_one(*log, {.records = 1, .max_timestamp_ms = ts, .total_bytes = 300});
  }
  REQUIRE(log->flush().ok());
  SUBCASE("recovery point at the end: indexes trusted") {
    REQUIRE(log->checkpoint(Offset(0)).ok());
  }
  SUBCASE("no checkpoint: every segment rescanned") {}
  log.reset();
  log = open_log(env, config);
  // Segment max timestamps: 5000, 9000, 3000 (active). At 15001 only the first is older.
  REQUIRE(log->maybe_apply_retention(15'001).value() == 1);
  REQUIRE(log->maybe_apply_retention(19'000).value() == 0);
  REQUIRE(log->maybe_apply_retention(19'001).value() == 1);
  CHECK(log->log_start_offset() == Offset(6));
  log.reset();
  log = open_log(env, config);  // a second restart still knows the max timestamps
  auto r = log->offset_for_timestamp(2500);
  REQUIRE(r.ok());
  REQUIRE(r.value().has_value());
  CHECK(r.value()->offset == Offset(6));
}

TEST_CASE("on the POSIX env, read slices carry a real fd positioned at the batches") {
  char templ[] = "/tmp/dmq-partition-log-XXXXXX";
  REQUIRE(::mkdtemp(templ) != nullptr);
  std::string root = templ;
  std::string dir = root + "/logs/t-3";
  FileEnv& env = posix_file_env();
  PartitionLogConfig config;
  config.segment_bytes = 4096;
  std::vector<std::string> written;
  {
    auto log = PartitionLog::open(env, dir, config, 0).value();
    for (int i = 0; i < 40; ++i) {
      std::string b = make_batch({.records = 2, .total_bytes = 500, .fill = char('a' + i % 26)});
      REQUIRE(log->append(std::span<char>(b.data(), b.size()), 0).ok());
      written.push_back(b);  // patched in place: these are the bytes on disk
    }
    REQUIRE(log->flush().ok());
    REQUIRE(log->checkpoint(log->log_end_offset()).ok());
  }
  auto log = PartitionLog::open(env, dir, config, 0).value();
  CHECK(log->log_end_offset() == Offset(80));
  auto r = log->read(Offset(33), 1000);  // batch 16 holds 32..33
  REQUIRE(r.ok());
  const FileSlice& slice = r.value().slice;
  REQUIRE(slice.fd() >= 0);
  REQUIRE(slice.length == 1000);
  std::string via_fd(slice.length, '\0');
  REQUIRE(::pread(slice.fd(), via_fd.data(), via_fd.size(), static_cast<off_t>(slice.position)) ==
          static_cast<ssize_t>(slice.length));
  CHECK(via_fd == written[16] + written[17]);
  log.reset();
  std::string cmd = "rm -rf '" + root + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

TEST_CASE("readers, an appender and a flusher run concurrently") {
  MemFileEnv env;
  PartitionLogConfig config;
  config.segment_bytes = 64 * 1024;
  config.index_interval_bytes = 512;
  auto log = open_log(env, config);
  constexpr int kBatches = 3000;
  std::atomic<bool> done{false};
  std::thread appender([&] {
    for (int i = 0; i < kBatches; ++i) {
      std::string b = make_batch({.records = 3, .total_bytes = 61 + size_t(i % 700)});
      REQUIRE(log->append(std::span<char>(b.data(), b.size()), i).ok());
    }
    done = true;
  });
  std::thread flusher([&] {
    Offset last(0);
    while (!done) {
      auto f = log->flush();
      REQUIRE(f.ok());
      REQUIRE(f.value() >= last);  // durability never goes backwards
      last = f.value();
    }
  });
  // This thread reads whatever is there, checking every batch it sees.
  int64_t reads = 0;
  while (!done || reads == 0) {
    Offset end = log->log_end_offset();
    if (end == Offset(0)) continue;
    Offset target((reads * 7919) % end.value);
    auto r = log->read(target, 4096);
    REQUIRE(r.ok());
    auto headers = walk(slice_bytes(r.value().slice));
    REQUIRE(!headers.empty());
    CHECK(headers.front().base_offset <= target);
    CHECK(headers.front().last_offset() >= target);
    ++reads;
  }
  appender.join();
  flusher.join();
  REQUIRE(log->flush().ok());
  CHECK(log->durable_end_offset() == Offset(3 * kBatches));
  CHECK(walk(read_everything(*log, Offset(0))).size() == kBatches);
}

TEST_CASE("ListOffsets sentinels and deleting a log") {
  MemFileEnv env;
  PartitionLogConfig config;
  config.segment_bytes = 1000;
  config.retention_bytes = 0;
  auto log = open_log(env, config);
  for (int i = 0; i < 7; ++i) append_one(*log, {.records = 1, .total_bytes = 300});
  REQUIRE(log->maybe_apply_retention(0).ok());
  auto latest = log->offset_for_timestamp(PartitionLog::kLatestTimestamp);
  auto earliest = log->offset_for_timestamp(PartitionLog::kEarliestTimestamp);
  REQUIRE(latest.ok());
  REQUIRE(earliest.ok());
  CHECK(latest.value()->offset == Offset(7));
  CHECK(earliest.value()->offset == Offset(6));
  CHECK(log->offset_for_timestamp(-3).error() == LogError::kCorruptBatch);

  REQUIRE(log->flush().ok());
  REQUIRE(log->checkpoint(Offset(7)).ok());
  auto slice = log->read(Offset(6), 1000).value().slice;
  REQUIRE(log->remove_all().ok());
  CHECK(!env.exists(kDir));
  CHECK(log->read(Offset(6), 1000).error() == LogError::kStorageFailed);
  std::string b = make_batch({});
  CHECK(log->append(std::span<char>(b.data(), b.size()), 0).error() == LogError::kStorageFailed);
  CHECK(slice_bytes(slice).size() == 300);  // a slice taken before still reads
}

namespace {

// Counts reads of .log files, to see which lookups go back to the file.
class CountingEnv : public MemFileEnv {
 public:
  std::atomic<int> log_reads{0};

  IoStatus open(const std::string& path, bool create, std::unique_ptr<File>* out) override {
    std::unique_ptr<File> file;
    if (IoStatus s = MemFileEnv::open(path, create, &file); !s.ok()) return s;
    if (path.ends_with(".log")) {
      *out = std::make_unique<Counted>(std::move(file), &log_reads);
    } else {
      *out = std::move(file);
    }
    return IoStatus::success();
  }

 private:
  struct Counted : File {
    Counted(std::unique_ptr<File> base, std::atomic<int>* reads)
        : base(std::move(base)), reads(reads) {}
    IoStatus write_at(uint64_t position, std::string_view data) override {
      return base->write_at(position, data);
    }
    IoStatus read_at(uint64_t position, std::span<char> out, size_t* n) const override {
      ++*reads;
      return base->read_at(position, out, n);
    }
    IoStatus sync() override { return base->sync(); }
    IoStatus truncate(uint64_t size) override { return base->truncate(size); }
    IoStatus size(uint64_t* out) const override { return base->size(out); }
    std::unique_ptr<File> base;
    std::atomic<int>* reads;
  };
};

}  // namespace

TEST_CASE("reads near the log end find their batches without reading headers back") {
  CountingEnv env;
  PartitionLogConfig config;
  config.retention_ms = -1;
  auto log = open_log(env, config);
  // 400 batches of 3 records, 200 bytes each: offset index entries every
  // ~20 batches, so a lookup from the index alone would walk headers.
  for (int i = 0; i < 400; ++i) append_one(*log, {.records = 3, .total_bytes = 200});
  const int64_t end = log->log_end_offset().value;  // 1200

  auto expect_read = [&](int64_t start, uint64_t max_bytes, int64_t first, int64_t next,
                         uint64_t length) {
    auto r = log->read(Offset(start), max_bytes);
    REQUIRE(r.ok());
    CHECK(r.value().first_offset == Offset(first));
    CHECK(r.value().next_offset == Offset(next));
    CHECK(r.value().slice.length == length);
    CHECK(r.value().slice.position == static_cast<uint64_t>(first / 3 * 200));
  };

  env.log_reads = 0;
  expect_read(end - 1, 1 << 20, end - 3, end, 200);  // a consumer at the tail
  expect_read(end - 50, 1 << 20, end - 51, end, 17 * 200);
  expect_read(end - 300, 1000, end - 300, end - 285, 1000);  // bounded by max_bytes
  CHECK(env.log_reads == 0);

  expect_read(4, 1 << 20, 3, end, 399 * 200);  // far behind: headers come from the file
  CHECK(env.log_reads > 0);

  // After a truncation the remembered headers must not outlive the bytes.
  REQUIRE(log->truncate_to(Offset(end - 30)).ok());
  for (int i = 0; i < 5; ++i) append_one(*log, {.records = 2, .total_bytes = 150});
  auto r = log->read(Offset(end - 31), 1 << 20);
  REQUIRE(r.ok());
  CHECK(r.value().first_offset == Offset(end - 33));
  auto headers = walk(slice_bytes(r.value().slice));
  REQUIRE(headers.size() == 6);
  CHECK(headers[1].base_offset == Offset(end - 30));
  CHECK(headers[1].total_bytes == 150);
  CHECK(headers[5].last_offset() == Offset(end - 30 + 9));
  CHECK(r.value().next_offset == log->log_end_offset());

  // A reopened log remembers the batches its recovery scanned.
  REQUIRE(log->flush().ok());
  log.reset();
  log = open_log(env, config);
  env.log_reads = 0;
  r = log->read(Offset(end - 25), 1 << 20);
  REQUIRE(r.ok());
  CHECK(r.value().first_offset == Offset(end - 26));
  CHECK(walk(slice_bytes(r.value().slice)).size() == 3);
  CHECK(env.log_reads == 1);  // slice_bytes itself; the lookup read nothing
}

TEST_CASE("a checkpoint overtaken by a truncation does not record the old high watermark") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  auto log = open_log(env, {});
  for (int i = 0; i < 10; ++i) append_one(*log, {.records = 1});
  REQUIRE(log->flush().ok());
  // Hold the checkpoint's write (its temp file's fsync) after it took its
  // values; meanwhile the replica truncates to 5 and appends past it again.
  const auto main_thread = std::this_thread::get_id();
  std::mutex mu;
  std::condition_variable cv;
  bool parked = false, released = false;
  env.set_sync_hook([&](const std::string& path) {
    if (std::this_thread::get_id() == main_thread) return;
    if (path.find(std::string(format::kPartitionCheckpointName)) == std::string::npos) return;
    std::unique_lock lock(mu);
    if (released) return;
    parked = true;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
  });
  LogStatus written;
  std::thread checkpointer([&] { written = log->checkpoint(Offset(10)); });
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return parked; }));
  }
  REQUIRE(log->truncate_to(Offset(5)).ok());
  append_one(*log, {.records = 2});  // offsets 5-6, not durable
  {
    std::lock_guard lock(mu);
    released = true;
  }
  cv.notify_all();
  checkpointer.join();
  REQUIRE(written.ok());
  CHECK(log->checkpointed_high_watermark() <= Offset(5));
  // On disk too: a crash now must not trust offsets 5-6 as synced or committed.
  env.set_sync_hook(nullptr);
  env.power_off();
  std::unique_ptr<File> f;
  REQUIRE(mem.open(kDir + "/" + std::string(format::kPartitionCheckpointName), false, &f).ok());
  std::string text(256, '\0');
  size_t n = 0;
  REQUIRE(f->read_at(0, text, &n).ok());
  text.resize(n);
  auto decoded = format::decode_partition_checkpoint(text);
  REQUIRE(decoded.has_value());
  CHECK(decoded->high_watermark <= Offset(5));
  CHECK(decoded->recovery_point <= Offset(5));
}
