// `dmq produce TOPIC`: one record per input line (stdin or --file).

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "client/commands.h"
#include "client/format.h"
#include "client/json_out.h"
#include "client/output.h"
#include "client/producer.h"
#include "client/records.h"

namespace dmq::client {
namespace {

int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

void report(const Invocation& inv, const ProducerStats& stats) {
  if (inv.common.json) {
    JsonOut j;
    j.w().StartObject();
    j.key("topic");
    j.string(inv.produce.topic);
    j.key("records");
    j.w().Int64(stats.records);
    j.key("batches");
    j.w().Int64(stats.batches);
    j.key("bytes");
    j.w().Int64(stats.bytes);
    j.w().EndObject();
    print(j.str());
  }
}

// True when stdin has nothing buffered and nothing ready: someone is typing,
// so what was read so far is sent now rather than when a batch fills.
bool stdin_idle(std::istream& in) {
  if (in.rdbuf()->in_avail() > 0) return false;
  pollfd p{STDIN_FILENO, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace

int run_produce(const Invocation& inv) {
  const ProduceArgs& args = inv.produce;
  auto codec = parse_compression(args.compression);
  if (!codec) throw usage_error("unknown compression '" + args.compression + "'");
  std::ifstream file;
  if (!args.file.empty()) {
    file.open(args.file, std::ios::binary);
    if (!file) throw ClientError("cannot open " + args.file);
  }
  // Unsynced, std::cin buffers itself, so in_avail() tells what is pending.
  std::ios::sync_with_stdio(false);
  std::istream& in = args.file.empty() ? std::cin : file;
  std::vector<kafka::RecordHeader> headers;
  for (const auto& [k, v] : args.headers) headers.push_back({k, std::string_view(v)});

  KafkaClient client(client_config(inv.common));
  TopicInfo topic = client.wait_for_topic(args.topic);
  if (args.partition) partitions_of(topic, args.partition);  // checks that it exists
  BatchProducer producer(client, topic, args.acks, *codec, args.partition);
  Progress progress;
  int64_t total = args.file.empty() ? -1 : file_size(args.file);
  int64_t read_bytes = 0;
  std::string line;
  while (std::getline(in, line)) {
    read_bytes += static_cast<int64_t>(line.size()) + 1;
    InputRecord record = split_line(line, args.key_separator);
    std::optional<std::string_view> key;
    if (record.key) key = *record.key;
    producer.add(key, record.value, headers);
    if (producer.pending() >= args.batch_records || (args.file.empty() && stdin_idle(in))) {
      producer.flush();
      if (total > 0) {
        progress.update("produced " + std::to_string(producer.stats().records) + " records (" +
                        std::to_string(read_bytes * 100 / total) + "% of " + args.file + ")");
      }
    }
  }
  if (in.bad()) throw ClientError("reading input failed");
  producer.flush();
  progress.finish();
  report(inv, producer.stats());
  return 0;
}

}  // namespace dmq::client
