// Coordinator load time of a __consumer_offsets partition after N commits,
// without and with compaction, and the cleaner's throughput (bench/README.md).
//
//   build/bench/compaction_bench [--commits 1000000] [--keys 1000] [--dir /tmp]
//
// It writes N offset commits (one record per batch, as a single-partition
// commit is written) over `keys` group/partition keys into a real partition
// log, then times what a coordinator's load does (read the log from its
// start in 1 MiB chunks, decode every record, apply it to a map), runs the
// cleaner over it, and times the load again.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "broker/log_cleaner_codec.h"
#include "common/log.h"
#include "group/records.h"
#include "kafka/protocol/record_batch.h"
#include "store/partition_log.h"

using namespace dmq;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// What a coordinator load does with the log: every record decoded and applied.
size_t load(store::PartitionLog& log, size_t* records) {
  std::map<std::pair<std::string, group::TopicPartition>, int64_t> offsets;
  *records = 0;
  store::Offset next = log.log_start_offset();
  std::string bytes, payload;
  while (next < log.log_end_offset()) {
    auto r = log.read(next, 1 << 20);
    if (!r.ok() || r.value().slice.length == 0) break;
    if (!store::PartitionLog::read_into(r.value().slice, &bytes).ok()) break;
    std::string_view rest = bytes;
    while (rest.size() >= batch_layout::kHeaderSize) {
      kafka::BatchHeader h;
      if (kafka::read_batch_header(rest, h) != kafka::BatchError::kOk) break;
      std::string_view batch = rest.substr(0, h.total_size());
      if (kafka::decompress_records(batch, payload) == kafka::BatchError::kOk) {
        kafka::RecordIterator it(payload, h.record_count);
        kafka::Record rec;
        while (it.next(rec)) {
          ++*records;
          auto decoded = group::decode_offsets_record(rec.key, rec.value);
          if (decoded && decoded->offset) {
            offsets[{decoded->group_id, decoded->tp}] = decoded->offset->offset;
          }
        }
      }
      rest.remove_prefix(h.total_size());
    }
    next = r.value().next_offset;
  }
  return offsets.size();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("compaction_bench");
  int64_t commits = 1000000;
  int64_t keys = 1000;
  std::string base = "/tmp";
  app.add_option("--commits", commits);
  app.add_option("--keys", keys);
  app.add_option("--dir", base);
  CLI11_PARSE(app, argc, argv);
  log::configure(log::Level::kWarn, log::Format::kText);
  const std::string dir = base + "/dmq-compaction-bench-" + std::to_string(::getpid());
  store::PartitionLogConfig config;
  config.segment_bytes = 104857600;  // __consumer_offsets' segment.bytes
  config.cleanup_compact = true;
  config.cleanup_delete = false;
  const int64_t now = 1700000000000;
  auto opened = store::PartitionLog::open(store::posix_file_env(), dir, config, now);
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", dir.c_str(), opened.status().message.c_str());
    return 1;
  }
  auto log = opened.value();
  auto start = Clock::now();
  for (int64_t i = 0; i < commits; ++i) {
    const int64_t key = i % keys;
    kafka::RecordBatchBuilder b;
    group::CommittedOffset committed{i, 0, "", now, std::nullopt};
    b.add(now,
          group::encode_offset_key("group-" + std::to_string(key / 100),
                                   {"orders", static_cast<int32_t>(key % 100)}),
          group::encode_offset_value(committed));
    std::string bytes = b.build();
    if (!log->append(std::span<char>(bytes.data(), bytes.size()), now).ok()) return 1;
  }
  // Close the last segment (segment.ms) so all commits are cleanable.
  {
    kafka::RecordBatchBuilder b;
    b.add(now, std::string("roll"), std::string("roll"));
    std::string bytes = b.build();
    (void)log->append(std::span<char>(bytes.data(), bytes.size()), now + int64_t{8} * 86400000);
  }
  (void)log->flush();
  log->note_high_watermark(log->log_end_offset());
  (void)log->checkpoint(log->log_end_offset());
  std::printf("wrote %lld commits over %lld keys: %.1f MB in %.1f s\n",
              static_cast<long long>(commits), static_cast<long long>(keys),
              static_cast<double>(log->size_bytes()) / 1e6, seconds_since(start));

  size_t records = 0;
  start = Clock::now();
  size_t live = load(*log, &records);
  std::printf("load without compaction: %.3f s (%zu records, %zu live keys, %.1f MB)\n",
              seconds_since(start), records, live, static_cast<double>(log->size_bytes()) / 1e6);

  store::OffsetMap map(size_t{128} << 20);
  store::CleanStats stats;
  start = Clock::now();
  for (int pass = 0; pass < 1000; ++pass) {
    auto r = log->clean(broker::kafka_record_codec(), map, now);
    if (!r.ok()) {
      std::fprintf(stderr, "clean failed: %s\n", r.status().message.c_str());
      return 1;
    }
    stats.add(r.value());
    if (!r.value().more) break;
  }
  const double clean_s = seconds_since(start);
  std::printf(
      "cleaner: %.2f s, %llu passes, %.1f MB read, %.1f MB written, %llu records removed: "
      "%.1f MB/s\n",
      clean_s, static_cast<unsigned long long>(stats.passes),
      static_cast<double>(stats.bytes_read) / 1e6, static_cast<double>(stats.bytes_written) / 1e6,
      static_cast<unsigned long long>(stats.records_removed),
      static_cast<double>(stats.bytes_read) / 1e6 / clean_s);

  start = Clock::now();
  live = load(*log, &records);
  std::printf("load after compaction: %.3f s (%zu records, %zu live keys, %.3f MB)\n",
              seconds_since(start), records, live, static_cast<double>(log->size_bytes()) / 1e6);
  log.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
