// The log cleaner (store/CLEANER.md) with the Kafka record codec: latest
// value per key, offsets intact, tombstones until delete.retention.ms,
// producer-state batches, multi-pass with a tiny offset map, crash safety at
// every file operation of a pass, and reads while it runs.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "broker/log_cleaner_codec.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/protocol/record_filter.h"
#include "kafka/protocol/record_walk.h"
#include "store/partition_log.h"

using namespace dmq;
using store::Offset;

namespace {

const bool kQuiet = [] {
  log::configure(log::Level::kError, log::Format::kText);
  return true;
}();

const std::string kDir = "/data/logs/compacted-0";
constexpr int64_t kNow = 1700000000000;

store::PartitionLogConfig compacted_config() {
  store::PartitionLogConfig c;
  c.segment_bytes = 600;  // a few batches per segment, so segments close
  c.cleanup_compact = true;
  c.cleanup_delete = false;
  c.min_cleanable_dirty_ratio = 0;
  c.delete_retention_ms = 1000;
  return c;
}

std::shared_ptr<store::PartitionLog> open_log(
    store::FileEnv& env, store::PartitionLogConfig config = compacted_config()) {
  auto r = store::PartitionLog::open(env, kDir, config, kNow);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.status().message));
  return r.value();
}

struct Rec {
  std::string key;
  std::optional<std::string> value;  // nullopt: tombstone
};

// Appends one batch; returns the offset of each record.
std::vector<int64_t> append(store::PartitionLog& log, const std::vector<Rec>& records,
                            int64_t timestamp_ms = kNow, int64_t producer_id = -1,
                            int32_t base_sequence = -1,
                            kafka::Compression codec = kafka::Compression::kNone) {
  kafka::RecordBatchBuilder b({.producer_id = producer_id,
                               .producer_epoch = static_cast<int16_t>(producer_id >= 0 ? 0 : -1),
                               .base_sequence = base_sequence});
  for (const auto& r : records) {
    if (r.value) {
      b.add(timestamp_ms, r.key, *r.value);
    } else {
      b.add(timestamp_ms, r.key, std::nullopt);
    }
  }
  std::string bytes = b.build();
  if (codec != kafka::Compression::kNone) {
    // Compress the records, as a client would send them.
    std::string payload = bytes.substr(batch_layout::kHeaderSize), compressed;
    REQUIRE(kafka::compress_records(codec, payload, compressed) == kafka::BatchError::kOk);
    bytes = bytes.substr(0, batch_layout::kHeaderSize) + compressed;
    bytes[batch_layout::kAttributes + 1] = static_cast<char>(codec);
    store::format::put_be32(bytes.data() + batch_layout::kBatchLength,
                            static_cast<uint32_t>(bytes.size() - batch_layout::kLogOverhead));
    store::format::put_be32(bytes.data() + batch_layout::kCrc,
                            crc32c(std::string_view(bytes).substr(batch_layout::kAttributes)));
  }
  auto r = log.append(std::span<char>(bytes.data(), bytes.size()), timestamp_ms);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.status().message));
  std::vector<int64_t> offsets;
  for (size_t i = 0; i < records.size(); ++i) offsets.push_back(r.value().base_offset.value + i);
  return offsets;
}

// Appends `records` as the first batch of a new active segment (segment.ms
// has passed), so every earlier record lies in closed, cleanable segments.
int64_t append_active(store::PartitionLog& log, const std::vector<Rec>& records) {
  return append(log, records, kNow + int64_t{8} * 24 * 3600 * 1000).back();
}

struct Seen {
  int64_t offset;
  std::string key;
  std::optional<std::string> value;
};

struct LogView {
  std::vector<Seen> records;
  std::vector<store::format::BatchHeader> batches;
  std::vector<int32_t> record_counts;
};

// Every record of the log, read batch by batch as a consumer would.
LogView read_all(store::PartitionLog& log) {
  LogView view;
  Offset next = log.log_start_offset();
  while (next < log.log_end_offset()) {
    auto r = log.read(next, 1 << 20);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.status().message));
    if (r.value().slice.length == 0) break;
    std::string bytes;
    REQUIRE(store::PartitionLog::read_into(r.value().slice, &bytes).ok());
    std::string_view rest = bytes;
    while (!rest.empty()) {
      auto h = store::format::parse_batch_header(rest);
      REQUIRE(h.has_value());
      std::string_view batch = rest.substr(0, h->total_bytes);
      REQUIRE(store::format::batch_crc_ok(batch));
      view.batches.push_back(*h);
      view.record_counts.push_back(store::format::batch_record_count(batch));
      auto walk = kafka::walk_records(batch, 0, [&](const kafka::RecordInLog& r) {
        view.records.push_back(
            {r.offset, std::string(r.record.key.value_or("")),
             r.record.value ? std::optional<std::string>(*r.record.value) : std::nullopt});
        return true;
      });
      REQUIRE(walk.error == kafka::BatchError::kOk);
      rest.remove_prefix(h->total_bytes);
    }
    next = r.value().next_offset;
  }
  return view;
}

store::CleanStats clean_fully(store::PartitionLog& log, size_t map_bytes = 1 << 20,
                              int64_t now_ms = kNow) {
  store::OffsetMap map(map_bytes);
  store::CleanStats total;
  for (int pass = 0; pass < 100; ++pass) {
    auto r = log.clean(broker::kafka_record_codec(), map, now_ms);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.status().message));
    total.add(r.value());
    if (!r.value().more) break;
  }
  return total;
}

// `rounds` updates of keys k0..k<keys-1>, one batch of `keys` records per
// round; returns key -> (offset, value) of the latest.
std::map<std::string, std::pair<int64_t, std::string>> fill(store::PartitionLog& log, int keys,
                                                            int rounds) {
  std::map<std::string, std::pair<int64_t, std::string>> latest;
  for (int round = 0; round < rounds; ++round) {
    std::vector<Rec> batch;
    for (int k = 0; k < keys; ++k) {
      batch.push_back({"k" + std::to_string(k), "v" + std::to_string(round)});
    }
    auto offsets = append(log, batch);
    for (int k = 0; k < keys; ++k) {
      latest["k" + std::to_string(k)] = {offsets[k], "v" + std::to_string(round)};
    }
  }
  return latest;
}

// Marks the whole log committed (high watermark) and durable.
void commit_all(store::PartitionLog& log) {
  REQUIRE(log.flush().ok());
  log.note_high_watermark(log.log_end_offset());
  REQUIRE(log.checkpoint(log.log_end_offset()).ok());
}

// Every key's latest value is there at its offset; any other record is
// one that was appended at that offset (nothing invented, nothing moved).
void check_latest(const LogView& view,
                  const std::map<std::string, std::pair<int64_t, std::string>>& latest,
                  const std::map<int64_t, std::string>& appended_values) {
  std::map<std::string, std::pair<int64_t, std::string>> found;
  int64_t previous = -1;
  for (const auto& r : view.records) {
    REQUIRE(r.offset > previous);  // strictly increasing: no duplicate, no reordering
    previous = r.offset;
    auto original = appended_values.find(r.offset);
    REQUIRE(original != appended_values.end());
    CHECK(original->second == r.key + "=" + r.value.value_or("<null>"));
    found[r.key] = {r.offset, r.value.value_or("<null>")};
  }
  CHECK(found == latest);
}

}  // namespace

TEST_CASE("cleaner: keeps the latest value per key at its original offset") {
  store::MemFileEnv env;
  auto log = open_log(env);
  auto latest = fill(*log, 5, 20);
  latest["k0"] = {append_active(*log, {{"k0", "tail"}}), "tail"};  // never cleaned
  const size_t segments_before = log->segment_count();
  const uint64_t bytes_before = log->size_bytes();
  commit_all(*log);

  store::CleanStats stats = clean_fully(*log);
  CHECK(stats.records_removed > 0);
  LogView view = read_all(*log);
  // Only the latest of each key is left, plus k0's latest in the closed
  // segments: the active segment is never indexed (as in Kafka).
  CHECK(view.records.size() == latest.size() + 1);
  std::map<std::string, std::pair<int64_t, std::string>> found;
  for (const auto& r : view.records) found[r.key] = {r.offset, *r.value};
  CHECK(found == latest);
  CHECK(log->size_bytes() < bytes_before / 4);
  CHECK(log->segment_count() <= segments_before);
  CHECK(log->log_start_offset() == Offset(0));
  CHECK(log->first_dirty_offset() > Offset(0));

  // The compacted log survives a reopen (gaps are not torn tails) and a
  // second pass changes nothing.
  log.reset();
  log = open_log(env);
  LogView reopened = read_all(*log);
  CHECK(reopened.records.size() == view.records.size());
  commit_all(*log);
  CHECK(clean_fully(*log).records_removed == 0);
  // Appends continue after the gaps.
  append(*log, {{"k1", "after"}});
  CHECK(read_all(*log).records.back().value == "after");
}

TEST_CASE("cleaner: a batch partly removed keeps its base and last offsets") {
  store::MemFileEnv env;
  auto log = open_log(env);
  append(*log, {{"a", "1"}, {"b", "1"}, {"c", "1"}});  // offsets 0..2
  for (int i = 0; i < 12; ++i) append(*log, {{"b", "x" + std::to_string(i)}});
  commit_all(*log);
  clean_fully(*log);
  LogView view = read_all(*log);
  REQUIRE(!view.batches.empty());
  CHECK(view.batches[0].base_offset == Offset(0));
  CHECK(view.batches[0].last_offset() == Offset(2));  // lastOffsetDelta kept
  CHECK(view.record_counts[0] == 2);                  // a and c
  CHECK(view.records[0].offset == 0);
  CHECK(view.records[1].offset == 2);
}

TEST_CASE("cleaner: compressed batches are rewritten with their codec") {
  for (auto codec :
       {kafka::Compression::kGzip, kafka::Compression::kLz4, kafka::Compression::kZstd}) {
    CAPTURE(static_cast<int>(codec));
    store::MemFileEnv env;
    auto log = open_log(env);
    append(*log, {{"a", "old"}, {"b", "keep"}}, kNow, -1, -1, codec);
    for (int i = 0; i < 12; ++i)
      append(*log, {{"a", "new" + std::to_string(i)}}, kNow, -1, -1, codec);
    commit_all(*log);
    clean_fully(*log);
    LogView view = read_all(*log);
    REQUIRE(view.records.size() >= 2);
    CHECK(view.records[0].key == "b");
    CHECK(view.records[0].offset == 1);
    kafka::BatchHeader h;
    std::string first;
    auto r = log->read(Offset(0), 1 << 20);
    REQUIRE(store::PartitionLog::read_into(r.value().slice, &first).ok());
    REQUIRE(kafka::read_batch_header(first, h) == kafka::BatchError::kOk);
    CHECK(h.compression() == codec);
  }
}

TEST_CASE("cleaner: tombstones stay until delete.retention.ms, then go") {
  store::MemFileEnv env;
  auto log = open_log(env);
  fill(*log, 3, 4);
  append(*log, {{"k1", std::nullopt}}, kNow);  // delete k1
  fill(*log, 1, 10);                           // more k0 updates close the segments
  commit_all(*log);

  clean_fully(*log, 1 << 20, kNow + 10);  // within delete.retention.ms (1000)
  LogView view = read_all(*log);
  bool tombstone = false, k1_value = false;
  for (const auto& r : view.records) {
    if (r.key == "k1") (r.value ? k1_value : tombstone) = true;
  }
  CHECK(tombstone);
  CHECK_FALSE(k1_value);  // the delete removed k1's older values at once

  // No new dirty data: the expired tombstone alone calls for a pass.
  store::CleanStats later = clean_fully(*log, 1 << 20, kNow + 2000);
  CHECK(later.records_removed == 1);
  for (const auto& r : read_all(*log).records) CHECK(r.key != "k1");
}

TEST_CASE("cleaner: the last batch of each producer stays, emptied if need be") {
  store::MemFileEnv env;
  auto log = open_log(env);
  append(*log, {{"p", "1"}}, kNow, 7, 0);
  append(*log, {{"p", "2"}}, kNow, 7, 1);  // producer 7's last batch
  append(*log, {{"q", "1"}}, kNow, 8, 0);  // producer 8's last batch
  for (int i = 0; i < 12; ++i) append(*log, {{"p", "n" + std::to_string(i)}, {"q", "n"}});
  commit_all(*log);
  clean_fully(*log);
  LogView view = read_all(*log);
  std::map<int64_t, int32_t> counts;  // base offset -> records, for producer batches
  for (size_t i = 0; i < view.batches.size(); ++i) {
    counts[view.batches[i].base_offset.value] = view.record_counts[i];
  }
  CHECK(counts.count(0) == 0);    // producer 7's first batch is gone
  REQUIRE(counts.count(1) == 1);  // its last stays, with no records
  CHECK(counts[1] == 0);
  REQUIRE(counts.count(2) == 1);
  CHECK(counts[2] == 0);
}

TEST_CASE("cleaner: a tiny offset map cleans in several passes to the same result") {
  store::MemFileEnv env;
  auto log = open_log(env);
  auto latest = fill(*log, 4, 40);  // each batch holds 4 keys; the map holds 7
  std::map<int64_t, std::string> values;
  for (const auto& r : read_all(*log).records) values[r.offset] = r.key + "=" + *r.value;
  latest["z"] = {append_active(*log, {{"z", "active"}}), "active"};
  values[latest["z"].first] = "z=active";
  commit_all(*log);
  store::CleanStats stats = clean_fully(*log, 8 * 24);
  CHECK(stats.passes > 3);
  check_latest(read_all(*log), latest, values);
}

TEST_CASE("cleaner: a map too small for one batch is an error, not a wrong clean") {
  store::MemFileEnv env;
  auto log = open_log(env);
  fill(*log, 20, 3);
  append(*log, {{"z", "1"}});
  commit_all(*log);
  store::OffsetMap map(2 * 24);
  auto r = log->clean(broker::kafka_record_codec(), map, kNow);
  CHECK_FALSE(r.ok());
  CHECK(!log->failure());
  CHECK(read_all(*log).records.size() == 61);
}

TEST_CASE("cleaner: records at or above the high watermark are never compacted") {
  store::MemFileEnv env;
  auto log = open_log(env);
  fill(*log, 3, 20);
  append(*log, {{"z", "1"}});
  REQUIRE(log->flush().ok());
  log->note_high_watermark(Offset(0));  // nothing committed yet
  CHECK(clean_fully(*log).passes == 0);
  CHECK(read_all(*log).records.size() == 61);
}

TEST_CASE("cleaner: cleanup.policy=delete logs are left alone; compact alone ignores retention") {
  store::MemFileEnv env;
  store::PartitionLogConfig plain = compacted_config();
  plain.cleanup_compact = false;
  plain.cleanup_delete = true;
  auto log = open_log(env, plain);
  fill(*log, 3, 20);
  append(*log, {{"z", "1"}});
  commit_all(*log);
  CHECK(clean_fully(*log).passes == 0);

  store::PartitionLogConfig compact = compacted_config();
  compact.retention_ms = 1;
  log->set_config(compact);  // a config change reaches the open log
  auto removed = log->maybe_apply_retention(kNow + 1000000);
  REQUIRE(removed.ok());
  CHECK(removed.value() == 0);
  CHECK(clean_fully(*log).records_removed > 0);
}

namespace {

// Stops doing anything after `budget` more write operations (file writes,
// truncates, syncs, renames, removals, creations): the process died there.
class StopAfterEnv : public store::FileEnv {
 public:
  explicit StopAfterEnv(store::FileEnv& base) : base_(base) {}
  int64_t budget = -1;  // -1: unlimited
  int64_t used = 0;
  bool take() {
    if (budget >= 0 && used >= budget) return false;
    ++used;
    return true;
  }
  static store::IoStatus died() { return store::IoStatus::error(store::IoCode::kIoError, "died"); }

  class StopFile : public store::File {
   public:
    StopFile(StopAfterEnv& env, std::unique_ptr<store::File> f) : env_(env), f_(std::move(f)) {}
    store::IoStatus write_at(uint64_t p, std::string_view d) override {
      return env_.take() ? f_->write_at(p, d) : died();
    }
    store::IoStatus read_at(uint64_t p, std::span<char> o, size_t* n) const override {
      return f_->read_at(p, o, n);
    }
    store::IoStatus sync() override { return env_.take() ? f_->sync() : died(); }
    store::IoStatus truncate(uint64_t s) override { return env_.take() ? f_->truncate(s) : died(); }
    store::IoStatus size(uint64_t* o) const override { return f_->size(o); }

   private:
    StopAfterEnv& env_;
    std::unique_ptr<store::File> f_;
  };

  store::IoStatus open(const std::string& path, bool create,
                       std::unique_ptr<store::File>* out) override {
    if (create && !base_.exists(path) && !take()) return died();
    std::unique_ptr<store::File> f;
    store::IoStatus s = base_.open(path, create, &f);
    if (s.ok()) *out = std::make_unique<StopFile>(*this, std::move(f));
    return s;
  }
  store::IoStatus remove(const std::string& p) override {
    return take() ? base_.remove(p) : died();
  }
  store::IoStatus rename(const std::string& a, const std::string& b) override {
    return take() ? base_.rename(a, b) : died();
  }
  store::IoStatus list(const std::string& d, std::vector<std::string>* n) override {
    return base_.list(d, n);
  }
  store::IoStatus create_dirs(const std::string& d) override {
    return take() ? base_.create_dirs(d) : died();
  }
  store::IoStatus remove_dir(const std::string& d) override {
    return take() ? base_.remove_dir(d) : died();
  }
  store::IoStatus sync_dir(const std::string& d) override {
    return take() ? base_.sync_dir(d) : died();
  }
  bool exists(const std::string& p) override { return base_.exists(p); }

 private:
  store::FileEnv& base_;
};

}  // namespace

TEST_CASE("cleaner: a power loss at any step of a pass loses nothing and duplicates nothing") {
  std::map<std::string, std::pair<int64_t, std::string>> latest;
  std::map<int64_t, std::string> values;
  int64_t steps_of_a_full_pass = -1;
  for (int64_t budget = 0; budget < 400 && steps_of_a_full_pass < 0; ++budget) {
    CAPTURE(budget);
    store::MemFileEnv mem;
    store::FaultFileEnv fault(mem);
    StopAfterEnv env(fault);
    {
      auto log = open_log(env);
      latest = fill(*log, 3, 12);
      append(*log, {{"k0", std::nullopt}});  // a tombstone, within its retention
      latest["k0"] = {log->log_end_offset().value - 1, "<null>"};
      latest["z"] = {append_active(*log, {{"z", "active"}}), "active"};
      values.clear();
      for (const auto& r : read_all(*log).records) {
        values[r.offset] = r.key + "=" + r.value.value_or("<null>");
      }
      commit_all(*log);
      env.used = 0;
      env.budget = budget;  // the "process" dies after this many operations
      store::OffsetMap map(1 << 16);
      auto r = log->clean(broker::kafka_record_codec(), map, kNow);
      if (r.ok() && env.used < budget) steps_of_a_full_pass = env.used;
    }
    fault.power_off();
    env.budget = -1;
    auto log = open_log(env);
    LogView view = read_all(*log);
    // Every key's latest value survives at its offset; whatever else is
    // there is an original record at its original offset, once.
    std::map<std::string, std::pair<int64_t, std::string>> found;
    int64_t previous = -1;
    for (const auto& r : view.records) {
      REQUIRE(r.offset > previous);
      previous = r.offset;
      REQUIRE(values.count(r.offset) == 1);
      CHECK(values[r.offset] == r.key + "=" + r.value.value_or("<null>"));
      found[r.key] = {r.offset, r.value.value_or("<null>")};
    }
    CHECK(found == latest);
    // And a clean after the reboot finishes the job.
    commit_all(*log);
    clean_fully(*log);
    check_latest(read_all(*log), latest, values);
    CHECK(read_all(*log).records.size() == latest.size());
  }
  CHECK(steps_of_a_full_pass > 10);  // the loop did reach a complete pass
}

TEST_CASE("cleaner: a reader holding the old segment keeps reading it across a swap") {
  store::MemFileEnv env;
  auto log = open_log(env);
  fill(*log, 3, 20);
  append(*log, {{"z", "1"}});
  commit_all(*log);
  auto before = log->read(Offset(0), 1 << 20);
  REQUIRE(before.ok());
  std::string old_bytes;
  REQUIRE(store::PartitionLog::read_into(before.value().slice, &old_bytes).ok());
  clean_fully(*log);
  std::string again;
  REQUIRE(store::PartitionLog::read_into(before.value().slice, &again).ok());
  CHECK(again == old_bytes);
}

TEST_CASE("offset map: bounded, latest offset wins, grows up to its bound") {
  store::OffsetMap map(24 * 1000);
  CHECK(map.max_keys() == 900);
  for (int i = 0; i < 900; ++i) map.put("key" + std::to_string(i), Offset(i));
  CHECK(map.full());
  map.put("key5", Offset(5000));  // an existing key still updates
  CHECK(map.get("key5") == Offset(5000));
  CHECK(map.get("key899") == Offset(899));
  CHECK_FALSE(map.get("nope").has_value());
  map.clear();
  CHECK(map.size() == 0);
  CHECK_FALSE(map.get("key5").has_value());
}
