// `dmq bench produce|consume TOPIC`: throughput (records/s, MB/s) and request
// latency percentiles, in the manner of kafka-producer-perf-test and
// kafka-consumer-perf-test. A produce answer with an error fails the run: a
// benchmark that silently retries measures something else.

#include <deque>

#include "client/bench_stats.h"
#include "client/commands.h"
#include "client/output.h"
#include "client/records.h"

namespace dmq::client {
namespace {

using kafka::ErrorCode;

struct InFlight {
  int32_t correlation_id = 0;
  int64_t sent_us = 0;
};

class ProduceBench {
 public:
  ProduceBench(KafkaClient& client, const BenchArgs& args, kafka::Compression codec)
      : client_(client), args_(args), codec_(codec), value_(make_value(args.record_size)) {}

  BenchResult run();

 private:
  static std::string make_value(int32_t size);
  void send_batch(int32_t partition, int32_t records);
  void receive_oldest(int32_t leader);

  KafkaClient& client_;
  const BenchArgs& args_;
  kafka::Compression codec_;
  std::string value_;
  std::map<int32_t, std::deque<InFlight>> in_flight_;
  std::vector<int64_t> latencies_us_;
};

std::string ProduceBench::make_value(int32_t size) {
  // Varied bytes, so that compression has work to do but no free win.
  std::string v(static_cast<size_t>(size), '\0');
  uint32_t x = 2463534242u;
  for (auto& c : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>('a' + (x % 26));
  }
  return v;
}

void ProduceBench::send_batch(int32_t partition, int32_t records) {
  auto leader = client_.cluster().leader_of(args_.topic, partition);
  if (!leader) throw ClientError("partition " + std::to_string(partition) + " has no leader");
  auto& queue = in_flight_[*leader];
  if (args_.acks != 0 && static_cast<int32_t>(queue.size()) >= args_.in_flight) {
    receive_oldest(*leader);
  }
  kafka::RecordBatchBuilder builder;
  int64_t now = wall_clock_ms();
  for (int32_t i = 0; i < records; ++i) builder.add(now, std::nullopt, value_);
  std::string batch = compress_batch(builder.build(), codec_);
  kafka::ProduceRequest request;
  request.acks = args_.acks;
  request.timeout_ms = client_.config().request_timeout_ms;
  auto& t = request.topics.emplace_back();
  t.name = args_.topic;
  t.partitions.push_back({partition, kafka::Records::view(batch)});
  int64_t sent = monotonic_us();
  int32_t id = client_.send(*leader, versions::kProduce, request);
  if (args_.acks != 0) queue.push_back({id, sent});
}

void ProduceBench::receive_oldest(int32_t leader) {
  auto& queue = in_flight_[leader];
  InFlight f = queue.front();
  queue.pop_front();
  auto r = client_.receive<kafka::ProduceResponse>(leader, versions::kProduce, f.correlation_id);
  latencies_us_.push_back(monotonic_us() - f.sent_us);
  for (const auto& rt : r.topics) {
    for (const auto& rp : rt.partitions) {
      if (rp.error_code != ErrorCode::kNone) {
        throw ClientError("produce to partition " + std::to_string(rp.index) +
                          " failed: " + kafka_error_name(rp.error_code));
      }
    }
  }
}

BenchResult ProduceBench::run() {
  const TopicInfo topic = client_.wait_for_topic(args_.topic);
  auto partitions = partitions_of(topic, std::nullopt);
  // A topic just created is in the metadata before every leader hosts its
  // partition: ListOffsets retries until each leader serves it, so the
  // timed produce does not meet UNKNOWN_TOPIC_OR_PARTITION.
  list_offsets(client_, args_.topic, partitions, -1);
  Progress progress;
  int64_t start = monotonic_us();
  int64_t sent = 0;
  for (size_t i = 0; sent < args_.records; ++i) {
    auto n = static_cast<int32_t>(std::min<int64_t>(args_.batch_records, args_.records - sent));
    send_batch(partitions[i % partitions.size()], n);
    sent += n;
    progress.update("sent " + std::to_string(sent) + " / " + std::to_string(args_.records));
  }
  for (auto& [leader, queue] : in_flight_) {
    while (!queue.empty()) receive_oldest(leader);
  }
  progress.finish();
  BenchResult r;
  r.mode = "produce";
  r.records = sent;
  r.bytes = sent * args_.record_size;
  r.elapsed_us = monotonic_us() - start;
  r.latency = summarize_latency(latencies_us_);
  return r;
}

struct ConsumeProgress {
  std::map<int32_t, int64_t> positions;
  std::map<int32_t, int64_t> ends;
  int64_t records = 0;
  int64_t bytes = 0;
};

// One Fetch to `leader`; returns false if leadership moved.
void fetch_once(KafkaClient& client, const std::string& topic, int32_t leader,
                const std::vector<int32_t>& partitions, ConsumeProgress& state) {
  kafka::FetchRequest request;
  request.max_wait_ms = 500;
  request.min_bytes = 1;
  request.max_bytes = 50 << 20;
  auto& t = request.topics.emplace_back();
  t.topic = topic;
  for (int32_t p : partitions) {
    kafka::FetchRequest::Partition fp;
    fp.partition = p;
    fp.fetch_offset = state.positions[p];
    fp.partition_max_bytes = 4 << 20;
    t.partitions.push_back(fp);
  }
  std::string frame;
  auto r = client.call<kafka::FetchResponse>(leader, versions::kFetch, request, &frame);
  for (const auto& rt : r.responses) {
    for (const auto& rp : rt.partitions) {
      if (rp.error_code != ErrorCode::kNone) {
        throw ClientError("fetch from partition " + std::to_string(rp.partition_index) +
                          " failed: " + kafka_error_name(rp.error_code));
      }
      int64_t& pos = state.positions[rp.partition_index];
      auto walk = walk_records(
          rp.records.bytes, topic, rp.partition_index, pos, [&state](const Message& m) {
            state.bytes +=
                static_cast<int64_t>(m.key.value_or("").size() + m.value.value_or("").size());
            return true;
          });
      if (walk.error != kafka::BatchError::kOk) throw ClientError("bad record batch while reading");
      state.records += walk.records;
      if (walk.next_offset > pos) pos = walk.next_offset;
    }
  }
}

BenchResult consume_bench(KafkaClient& client, const BenchArgs& args) {
  const TopicInfo topic = client.wait_for_topic(args.topic);
  auto partitions = partitions_of(topic, std::nullopt);
  ConsumeProgress state;
  state.positions = list_offsets(client, args.topic, partitions, -2);
  state.ends = list_offsets(client, args.topic, partitions, -1);
  auto routes = client.cluster().by_leader(args.topic, partitions, nullptr);
  std::vector<int64_t> latencies;
  Progress progress;
  int64_t start = monotonic_us();
  auto at_end = [&state] {
    for (const auto& [p, end] : state.ends) {
      if (state.positions[p] < end) return false;
    }
    return true;
  };
  while (state.records < args.records && !at_end()) {
    for (const auto& [leader, parts] : routes) {
      int64_t t0 = monotonic_us();
      fetch_once(client, args.topic, leader, parts, state);
      latencies.push_back(monotonic_us() - t0);
    }
    progress.update("read " + std::to_string(state.records) + " records");
  }
  progress.finish();
  BenchResult r;
  r.mode = "consume";
  r.records = state.records;
  r.bytes = state.bytes;
  r.elapsed_us = monotonic_us() - start;
  r.latency = summarize_latency(latencies);
  return r;
}

}  // namespace

int run_bench(const Invocation& inv) {
  const BenchArgs& args = inv.bench;
  auto codec = parse_compression(args.compression);
  if (!codec) throw usage_error("unknown compression '" + args.compression + "'");
  KafkaClient client(client_config(inv.common));
  BenchResult result;
  if (args.action == "produce") {
    ProduceBench bench(client, args, *codec);
    result = bench.run();
  } else {
    result = consume_bench(client, args);
  }
  print(inv.common.json ? bench_json(result) : bench_text(result));
  return 0;
}

}  // namespace dmq::client
