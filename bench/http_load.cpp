// http_load: a closed-loop HTTP load generator for the controller-quorum
// benchmark (bench/raft_vs_etcd.py).
//
// N threads, each with its own keep-alive connection, POST one request, wait
// for the answer, and POST the next. After a warm-up, every request that
// completes inside the measured window counts: its latency is recorded, and a
// 2xx answer counts as an op, anything else (status or transport error) as an
// error. The result is one JSON line on stdout.
//
// Two body shapes, so both systems see the same HTTP/JSON round trip:
//   raw   the body is `size` bytes (DMQ: POST /internal/raft/propose)
//   etcd  {"key":b64,"value":b64} with a key unique per request and a value of
//         `size` bytes (etcd's v3 JSON gateway: POST /v3/kv/put)
//
// The generator shares the machine with the servers it measures, so it keeps
// its own work small (bodies built once per thread, latencies in a
// preallocated vector, no locks on the request path) and reports the CPU it
// used, so a reader can tell whether it was the bottleneck.

#include <httplib.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Programmer errors only (bad wiring of this tool); input errors are reported.
#define BENCH_ASSERT(cond)                                                              \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

enum class BodyMode { kRaw, kEtcd };

struct Options {
  std::string url;  // http://host:port/path
  BodyMode mode = BodyMode::kRaw;
  int concurrency = 1;
  double duration_s = 10;
  double warmup_s = 2;
  size_t size_bytes = 256;
  int timeout_s = 10;
  std::string label;
};

struct Target {
  std::string host;
  int port = 80;
  std::string path;
};

// Returns false on a URL this tool does not handle (only plain http).
bool parse_url(const std::string& url, Target* out) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return false;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  out->path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) {
    out->host = authority;
    return !authority.empty();
  }
  out->host = authority.substr(0, colon);
  char* end = nullptr;
  long port = std::strtol(authority.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port <= 0 || port > 65535) return false;
  out->port = static_cast<int>(port);
  return !out->host.empty();
}

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A payload of printable bytes that differ per thread, so nothing downstream
// can deduplicate or compress them away cheaply.
std::string make_payload(size_t size, int thread) {
  std::string s(size, 'x');
  uint64_t x = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(thread + 1);
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>('a' + x % 26);
  }
  return s;
}

struct WorkerResult {
  std::vector<uint32_t> latencies_us;  // successful requests in the window
  uint64_t errors = 0;
  std::string first_error;
};

struct Window {
  Clock::time_point begin;  // end of the warm-up
  Clock::time_point end;
};

// The request body for one put; etcd mode needs a fresh key each time so the
// keyspace grows like a stream of distinct writes.
class BodyMaker {
 public:
  BodyMaker(const Options& o, int thread) : mode_(o.mode), thread_(thread) {
    auto payload = make_payload(o.size_bytes, thread);
    if (mode_ == BodyMode::kRaw) {
      fixed_ = std::move(payload);
    } else {
      suffix_ = "\",\"value\":\"" + base64(payload) + "\"}";
    }
  }
  const std::string& next(uint64_t seq) {
    if (mode_ == BodyMode::kRaw) return fixed_;
    body_ = "{\"key\":\"" + base64("bench/" + std::to_string(thread_) + "/" + std::to_string(seq)) +
            suffix_;
    return body_;
  }

 private:
  BodyMode mode_;
  int thread_;
  std::string fixed_, suffix_, body_;
};

void run_worker(const Options& o, const Target& t, int thread, Window window, WorkerResult* out) {
  httplib::Client client(t.host, t.port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(o.timeout_s, 0);
  client.set_write_timeout(o.timeout_s, 0);
  const char* content_type =
      o.mode == BodyMode::kRaw ? "application/octet-stream" : "application/json";
  BodyMaker bodies(o, thread);
  out->latencies_us.reserve(1 << 16);
  for (uint64_t seq = 0;; ++seq) {
    auto start = Clock::now();
    if (start >= window.end) return;
    auto result = client.Post(t.path, bodies.next(seq), content_type);
    auto done = Clock::now();
    bool ok = result && result->status >= 200 && result->status < 300;
    // Only requests that finish inside the window count, so the rate is
    // completions per second of the window, as a closed loop measures it.
    if (done < window.begin || done > window.end) continue;
    if (ok) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(done - start).count();
      out->latencies_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
      continue;
    }
    ++out->errors;
    if (out->first_error.empty()) {
      out->first_error = result ? "HTTP " + std::to_string(result->status) + " " + result->body
                                : "transport: " + httplib::to_string(result.error());
    }
  }
}

double percentile_ms(const std::vector<uint32_t>& sorted_us, double q) {
  if (sorted_us.empty()) return 0;
  auto rank = static_cast<size_t>(q * static_cast<double>(sorted_us.size() - 1) + 0.5);
  return sorted_us[std::min(rank, sorted_us.size() - 1)] / 1000.0;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

// JSON string escaping for the error text (it may hold a server's body).
std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

void print_report(const Options& o, std::vector<WorkerResult>& results, double cpu_s) {
  std::vector<uint32_t> all;
  uint64_t errors = 0;
  // Connections that completed nothing in the window: a server that serves
  // fewer connections than it accepts shows here, not in the percentiles.
  uint64_t starved = 0;
  std::string first_error;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    errors += r.errors;
    if (r.latencies_us.empty()) ++starved;
    if (first_error.empty()) first_error = r.first_error;
  }
  std::sort(all.begin(), all.end());
  double mean_ms = 0;
  for (auto v : all) mean_ms += v / 1000.0;
  if (!all.empty()) mean_ms /= static_cast<double>(all.size());
  std::printf(
      "{\"label\":\"%s\",\"concurrency\":%d,\"size_bytes\":%zu,\"duration_s\":%.1f,"
      "\"ops\":%zu,\"ops_per_s\":%.1f,\"mean_ms\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
      "\"p999_ms\":%.3f,\"max_ms\":%.3f,\"errors\":%llu,\"starved_connections\":%llu,"
      "\"first_error\":\"%s\","
      "\"loadgen_cpu_s\":%.2f,\"loadgen_cpu_pct\":%.1f}\n",
      json_escape(o.label).c_str(), o.concurrency, o.size_bytes, o.duration_s, all.size(),
      all.size() / o.duration_s, mean_ms, percentile_ms(all, 0.50), percentile_ms(all, 0.99),
      percentile_ms(all, 0.999), all.empty() ? 0.0 : all.back() / 1000.0,
      static_cast<unsigned long long>(errors), static_cast<unsigned long long>(starved),
      json_escape(first_error.substr(0, 200)).c_str(), cpu_s,
      100.0 * cpu_s / (o.warmup_s + o.duration_s));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string mode = "raw";
  CLI::App app{"Closed-loop HTTP POST load generator; prints one JSON line."};
  app.add_option("--url", o.url, "http://host:port/path")->required();
  app.add_option("--mode", mode, "raw (body = payload) or etcd (v3 JSON put)")
      ->check(CLI::IsMember({"raw", "etcd"}));
  app.add_option("-c,--concurrency", o.concurrency, "connections, one thread each")
      ->check(CLI::Range(1, 4096));
  app.add_option("-d,--duration", o.duration_s, "measured seconds")->check(CLI::Range(0.1, 3600.0));
  app.add_option("-w,--warmup", o.warmup_s, "seconds before measuring")
      ->check(CLI::Range(0.0, 600.0));
  app.add_option("-s,--size", o.size_bytes, "payload bytes")->check(CLI::Range(1, 1 << 20));
  app.add_option("--timeout", o.timeout_s, "per-request timeout, seconds")
      ->check(CLI::Range(1, 600));
  app.add_option("--label", o.label, "copied into the output");
  CLI11_PARSE(app, argc, argv);
  o.mode = mode == "etcd" ? BodyMode::kEtcd : BodyMode::kRaw;

  Target target;
  if (!parse_url(o.url, &target)) {
    std::fprintf(stderr, "bad --url %s (want http://host:port/path)\n", o.url.c_str());
    return 2;
  }
  auto start = Clock::now();
  Window window;
  window.begin = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(o.warmup_s));
  window.end = window.begin + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(o.duration_s));
  std::vector<WorkerResult> results(static_cast<size_t>(o.concurrency));
  std::vector<std::thread> threads;
  threads.reserve(results.size());
  double cpu_before = cpu_seconds();
  for (int i = 0; i < o.concurrency; ++i) {
    threads.emplace_back(run_worker, std::cref(o), std::cref(target), i, window, &results[i]);
  }
  for (auto& t : threads) t.join();
  BENCH_ASSERT(results.size() == static_cast<size_t>(o.concurrency));
  print_report(o, results, cpu_seconds() - cpu_before);
  return 0;
}
