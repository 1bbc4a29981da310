#include "client/bench_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "client/json_out.h"

namespace dmq::client {
namespace {

double at_rank(const std::vector<int64_t>& sorted, double q) {
  // Nearest rank: ceil(q * n), 1-based.
  auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<size_t>(std::max(1.0, std::ceil(q * n)));
  return static_cast<double>(sorted[std::min(rank, sorted.size()) - 1]) / 1000.0;
}

}  // namespace

LatencySummary summarize_latency(std::vector<int64_t>& samples_us) {
  LatencySummary s;
  s.samples = samples_us.size();
  if (samples_us.empty()) return s;
  std::sort(samples_us.begin(), samples_us.end());
  s.p50_ms = at_rank(samples_us, 0.50);
  s.p99_ms = at_rank(samples_us, 0.99);
  s.p999_ms = at_rank(samples_us, 0.999);
  s.max_ms = static_cast<double>(samples_us.back()) / 1000.0;
  double sum = 0;
  for (int64_t v : samples_us) sum += static_cast<double>(v);
  s.mean_ms = sum / static_cast<double>(samples_us.size()) / 1000.0;
  return s;
}

double BenchResult::records_per_s() const {
  return elapsed_us > 0 ? static_cast<double>(records) / seconds() : 0;
}

double BenchResult::mb_per_s() const {
  return elapsed_us > 0 ? static_cast<double>(bytes) / (1024.0 * 1024.0) / seconds() : 0;
}

std::string bench_text(const BenchResult& r) {
  char line[512];
  std::snprintf(line, sizeof(line),
                "%s: %lld records in %.2f s: %.1f records/s, %.2f MB/s; latency (ms, %zu "
                "requests): avg %.2f, p50 %.2f, p99 %.2f, p99.9 %.2f, max %.2f\n",
                r.mode.c_str(), static_cast<long long>(r.records), r.seconds(), r.records_per_s(),
                r.mb_per_s(), r.latency.samples, r.latency.mean_ms, r.latency.p50_ms,
                r.latency.p99_ms, r.latency.p999_ms, r.latency.max_ms);
  return line;
}

std::string bench_json(const BenchResult& r) {
  JsonOut j;
  j.w().StartObject();
  j.key("mode");
  j.string(r.mode);
  j.key("records");
  j.w().Int64(r.records);
  j.key("bytes");
  j.w().Int64(r.bytes);
  j.key("seconds");
  j.w().Double(r.seconds());
  j.key("records_per_s");
  j.w().Double(r.records_per_s());
  j.key("mb_per_s");
  j.w().Double(r.mb_per_s());
  j.key("latency_ms");
  j.w().StartObject();
  j.key("samples");
  j.w().Uint64(r.latency.samples);
  j.key("mean");
  j.w().Double(r.latency.mean_ms);
  j.key("p50");
  j.w().Double(r.latency.p50_ms);
  j.key("p99");
  j.w().Double(r.latency.p99_ms);
  j.key("p999");
  j.w().Double(r.latency.p999_ms);
  j.key("max");
  j.w().Double(r.latency.max_ms);
  j.w().EndObject();
  j.w().EndObject();
  return j.str();
}

}  // namespace dmq::client
