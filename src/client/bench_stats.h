#pragma once
// Throughput and latency arithmetic for `dmq bench`, pure so it is unit-tested.

#include <cstdint>
#include <string>
#include <vector>

namespace dmq::client {

struct LatencySummary {
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
  size_t samples = 0;
};

// Nearest-rank percentiles (the smallest sample with at least q of the samples
// at or below it) over latencies in microseconds. Sorts `samples_us`.
LatencySummary summarize_latency(std::vector<int64_t>& samples_us);

struct BenchResult {
  std::string mode;  // produce or consume
  int64_t records = 0;
  int64_t bytes = 0;  // record payload bytes (keys and values)
  int64_t elapsed_us = 0;
  LatencySummary latency;

  double seconds() const { return static_cast<double>(elapsed_us) / 1e6; }
  double records_per_s() const;
  double mb_per_s() const;  // MB = 2^20 bytes, as kafka-producer-perf-test
};

// kafka-producer-perf-test's closing line, and a JSON object for --json.
std::string bench_text(const BenchResult& r);
std::string bench_json(const BenchResult& r);

}  // namespace dmq::client
