// A JetStream publish load generator on the NATS C client (Debian's
// libnats-dev), the counterpart of rdkafka_load.cpp for
// replicated_vs_nats.py: asynchronous publishes with a window of unacknowledged
// messages, so the generator's cost is the client library's own.
//
//   nats_load URLS SUBJECT MESSAGES SIZE [--window=N] [--rate=N]
//
// URLS is a comma-separated list (nats://127.0.0.1:4222,...). Without --rate it
// publishes as fast as the window allows and prints {"n", "errors", "secs",
// "cpu"}; with --rate=N it paces N messages per second and adds the
// acknowledgement latency of each message (publish -> stream ack) as
// "p50_ms", "p99_ms", "max_ms". A message carries its send time in its first
// 8 bytes, so the ack handler needs no table of in-flight messages.
#include <nats/nats.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Results {
  std::atomic<long> acked{0};
  std::atomic<long> failed{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;
  bool timed = false;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
  auto* results = static_cast<Results*>(closure);
  if (ack != nullptr && error == nullptr) {
    results->acked++;
    if (results->timed && natsMsg_GetDataLength(msg) >= 8) {
      int64_t sent = 0;
      std::memcpy(&sent, natsMsg_GetData(msg), sizeof sent);
      const double ms = static_cast<double>(now_ns() - sent) / 1e6;
      std::lock_guard<std::mutex> lock(results->mutex);
      results->latencies_ms.push_back(ms);
    }
  } else if (results->failed++ == 0) {
    std::fprintf(stderr, "nats_load: publish failed: %s\n",
                 error ? natsStatus_GetText(error->Err) : "no ack");
  }
  natsMsg_Destroy(msg);
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

long option(int argc, char** argv, const char* name, long fallback) {
  const size_t length = std::strlen(name);
  for (int i = 5; i < argc; ++i) {
    if (std::strncmp(argv[i], name, length) == 0) return std::atol(argv[i] + length);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: nats_load URLS SUBJECT MESSAGES SIZE [--window=N] [--rate=N]\n");
    return 2;
  }
  const std::string subject = argv[2];
  const long messages = std::atol(argv[3]);
  const size_t size = std::max<size_t>(8, static_cast<size_t>(std::atol(argv[4])));
  const long window = option(argc, argv, "--window=", 4000);
  const long rate = option(argc, argv, "--rate=", 0);

  Results results;
  results.timed = rate > 0;
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  jsOptions js_options;
  std::vector<std::string> urls;
  for (std::string rest = argv[1]; !rest.empty();) {
    const auto comma = rest.find(',');
    urls.push_back(rest.substr(0, comma));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  std::vector<const char*> url_pointers;
  for (const auto& url : urls) url_pointers.push_back(url.c_str());
  natsStatus connected = natsOptions_Create(&options);
  if (connected == NATS_OK) {
    connected =
        natsOptions_SetServers(options, url_pointers.data(), static_cast<int>(url_pointers.size()));
  }
  if (connected == NATS_OK) connected = natsConnection_Connect(&connection, options);
  if (connected != NATS_OK) {
    std::fprintf(stderr, "nats_load: cannot connect to %s: %s\n", argv[1],
                 natsStatus_GetText(connected));
    return 1;
  }
  jsOptions_Init(&js_options);
  js_options.PublishAsync.MaxPending = window;
  js_options.PublishAsync.AckHandler = on_ack;
  js_options.PublishAsync.AckHandlerClosure = &results;
  if (natsConnection_JetStream(&js, connection, &js_options) != NATS_OK) {
    std::fprintf(stderr, "nats_load: no JetStream context\n");
    return 1;
  }

  std::vector<char> payload(size, 'x');
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (long i = 0; i < messages; ++i) {
    if (rate > 0) {
      std::this_thread::sleep_until(t0 + std::chrono::nanoseconds(i * 1'000'000'000L / rate));
    }
    const int64_t sent = now_ns();
    std::memcpy(payload.data(), &sent, sizeof sent);
    // js_PublishAsync copies the data into its message.
    natsStatus status = js_PublishAsync(js, subject.c_str(), payload.data(),
                                        static_cast<int>(payload.size()), nullptr);
    if (status != NATS_OK) {
      std::fprintf(stderr, "nats_load: publish: %s\n", natsStatus_GetText(status));
      return 1;
    }
  }
  jsPubOptions complete;
  jsPubOptions_Init(&complete);
  complete.MaxWait = 60000;
  js_PublishAsyncComplete(js, &complete);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;

  std::printf("{\"n\": %ld, \"errors\": %ld, \"secs\": %.6f, \"cpu\": %.3f", results.acked.load(),
              messages - results.acked.load(), secs, cpu);
  if (results.timed) {
    std::lock_guard<std::mutex> lock(results.mutex);
    std::sort(results.latencies_ms.begin(), results.latencies_ms.end());
    std::printf(", \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f",
                percentile(results.latencies_ms, 0.50), percentile(results.latencies_ms, 0.99),
                results.latencies_ms.empty() ? 0.0 : results.latencies_ms.back());
  }
  std::printf("}\n");
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  natsOptions_Destroy(options);
  return results.acked.load() == messages ? 0 : 1;
}
