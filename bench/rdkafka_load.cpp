// A produce load generator on librdkafka's C API, without Python in the
// loop: every message points at one shared payload (no copy, no allocation
// per message), so the generator's cost is librdkafka's own. kafka_bench.py
// builds it with g++ against Debian's librdkafka-dev and runs it next to the
// confluent-kafka producer.
//
//   rdkafka_load BOOTSTRAP TOPIC MESSAGES SIZE ACKS [LINGER_MS [KEY=VALUE...]] [--rate=N]
//
// Prints one JSON line: {"n": acknowledged, "errors": failed, "secs": from
// the first produce to the last acknowledgement, "cpu": CPU seconds of this
// process over the same span}. With --rate=N it paces N messages per second
// and adds each message's acknowledgement latency (produce -> delivery
// report) as "p50_ms", "p99_ms" and "max_ms"; the send time travels as the
// message's opaque, so no table of in-flight messages is needed.
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Counts {
  long delivered = 0;
  long failed = 0;
  bool timed = false;
  std::vector<double> latencies_ms;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* counts = static_cast<Counts*>(opaque);
  if (message->err) {
    if (counts->failed++ == 0) {
      std::fprintf(stderr, "rdkafka_load: delivery failed: %s\n", rd_kafka_err2str(message->err));
    }
  } else {
    counts->delivered++;
    if (counts->timed) {
      const auto sent = reinterpret_cast<intptr_t>(message->_private);
      counts->latencies_ms.push_back(static_cast<double>(now_ns() - sent) / 1e6);
    }
  }
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

bool set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, key, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "rdkafka_load: %s=%s: %s\n", key, value.c_str(), error);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(
        stderr,
        "usage: rdkafka_load BOOTSTRAP TOPIC MESSAGES SIZE ACKS [LINGER_MS [KEY=VALUE...]]\n");
    return 2;
  }
  const std::string topic_name = argv[2];
  const long messages = std::atol(argv[3]);
  const size_t size = static_cast<size_t>(std::atol(argv[4]));
  Counts counts;

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The same settings as kafka_bench.py's confluent-kafka producer.
  if (!set(conf, "bootstrap.servers", argv[1]) || !set(conf, "acks", argv[5]) ||
      !set(conf, "linger.ms", argc > 6 ? argv[6] : "5") || !set(conf, "compression.type", "none") ||
      !set(conf, "queue.buffering.max.messages", "1000000") ||
      !set(conf, "queue.buffering.max.kbytes", "1048576")) {
    return 2;
  }
  // Extra librdkafka settings, e.g. security.protocol=SASL_SSL (tls_bench.py).
  long rate = 0;
  for (int i = 7; i < argc; ++i) {
    const std::string kv = argv[i];
    if (kv.rfind("--rate=", 0) == 0) {
      rate = std::atol(kv.c_str() + 7);
      continue;
    }
    const auto eq = kv.find('=');
    if (eq == std::string::npos || !set(conf, kv.substr(0, eq).c_str(), kv.substr(eq + 1)))
      return 2;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &counts);
  char error[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (!producer) {
    std::fprintf(stderr, "rdkafka_load: %s\n", error);
    return 1;
  }
  rd_kafka_topic_t* topic = rd_kafka_topic_new(producer, topic_name.c_str(), nullptr);

  // Warm-up: the topic's leader is known before the clock starts (otherwise
  // the first produce waits for librdkafka's once-a-second topic scan).
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(producer, 0, topic, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "rdkafka_load: no metadata for %s\n", topic_name.c_str());
    return 1;
  }
  rd_kafka_metadata_destroy(metadata);

  std::vector<char> payload(size, 'x');
  counts.timed = rate > 0;
  // Paced runs serve delivery reports on their own thread, so a report is
  // timed when it arrives rather than at the next send.
  std::atomic<bool> sending{true};
  std::thread poller;
  if (rate > 0) {
    poller = std::thread([&] {
      while (sending.load()) rd_kafka_poll(producer, 5);
    });
  }
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (long i = 0; i < messages;) {
    if (rate > 0)
      std::this_thread::sleep_until(t0 + std::chrono::nanoseconds(i * 1'000'000'000L / rate));
    // Flags 0: librdkafka references the payload (it outlives every message).
    void* sent = reinterpret_cast<void*>(static_cast<intptr_t>(now_ns()));
    if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, 0, payload.data(), payload.size(), nullptr,
                         0, sent) == 0) {
      ++i;
      continue;
    }
    if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      std::fprintf(stderr, "rdkafka_load: produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
      return 1;
    }
    rd_kafka_poll(producer, 1);
  }
  sending = false;
  if (poller.joinable()) poller.join();
  rd_kafka_flush(producer, 60000);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::printf("{\"n\": %ld, \"errors\": %ld, \"secs\": %.6f, \"cpu\": %.3f", counts.delivered,
              counts.failed + (messages - counts.delivered - counts.failed), secs, cpu);
  if (counts.timed) {
    std::sort(counts.latencies_ms.begin(), counts.latencies_ms.end());
    std::printf(", \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f",
                percentile(counts.latencies_ms, 0.50), percentile(counts.latencies_ms, 0.99),
                counts.latencies_ms.empty() ? 0.0 : counts.latencies_ms.back());
  }
  std::printf("}\n");
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(producer);
  return counts.failed == 0 && counts.delivered == messages ? 0 : 1;
}
