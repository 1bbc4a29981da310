// `dmq consume TOPIC`: fetches from every partition's leader and prints each
// record with --format or as JSON, until --max-messages, the end of every
// partition (--exit-at-end) or SIGINT. With --group, positions start at the
// group's committed offsets and are committed as a simple consumer
// (generation -1, what KafkaConsumer.assign() + commitSync() sends).

#include "client/commands.h"
#include "client/format.h"
#include "client/interrupt.h"
#include "client/output.h"
#include "client/records.h"

namespace dmq::client {
namespace {

using kafka::ErrorCode;

struct Position {
  int64_t offset = 0;
  int64_t high_watermark = -1;  // from the last fetch; -1 before the first
};

class Consumer {
 public:
  Consumer(KafkaClient& client, const Invocation& inv, OutputFormat format)
      : client_(client), args_(inv.consume), json_(inv.common.json), format_(std::move(format)) {}

  void start(const TopicInfo& topic);
  void run();
  void commit();

 private:
  int64_t start_offset(int32_t p, const std::map<int32_t, int64_t>& committed);
  bool done() const;
  void fetch_from(int32_t leader, const std::vector<int32_t>& partitions, bool& stale);
  void handle_partition(const kafka::FetchResponse::Partition& rp, bool& stale);

  KafkaClient& client_;
  const ConsumeArgs& args_;
  bool json_;
  OutputFormat format_;
  std::map<int32_t, Position> positions_;
  std::map<int32_t, int64_t> committed_;
  int64_t printed_ = 0;
  int64_t last_commit_ms_ = 0;
  std::string out_;
};

std::map<int32_t, int64_t> fetch_committed(KafkaClient& client, const std::string& group,
                                           const std::string& topic,
                                           const std::vector<int32_t>& partitions) {
  kafka::OffsetFetchRequest request;
  request.group_id = group;
  request.topics.emplace();
  request.topics->push_back({topic, partitions});
  auto r = client.call_coordinator<kafka::OffsetFetchResponse>(
      group, versions::kOffsetFetch, request, [](const auto& r) { return r.error_code; });
  if (r.error_code != ErrorCode::kNone) {
    throw ClientError("fetching offsets of group '" + group +
                      "': " + kafka_error_name(r.error_code));
  }
  std::map<int32_t, int64_t> out;
  for (const auto& t : r.topics) {
    for (const auto& p : t.partitions) {
      if (p.error_code == ErrorCode::kNone && p.committed_offset >= 0) {
        out[p.partition_index] = p.committed_offset;
      }
    }
  }
  return out;
}

void Consumer::start(const TopicInfo& topic) {
  auto partitions = partitions_of(topic, args_.partition);
  std::map<int32_t, int64_t> committed;
  if (!args_.group.empty())
    committed = fetch_committed(client_, args_.group, topic.name, partitions);
  for (int32_t p : partitions) positions_[p] = Position{start_offset(p, committed), -1};
}

int64_t Consumer::start_offset(int32_t p, const std::map<int32_t, int64_t>& committed) {
  auto list = [&](int64_t ts) {
    int64_t offset = list_offsets(client_, args_.topic, {p}, ts).at(p);
    // No record at or after the timestamp: start at the end (Kafka's answer is -1).
    return offset >= 0 ? offset : list_offsets(client_, args_.topic, {p}, -1).at(p);
  };
  switch (args_.start) {
    case StartAt::kBeginning:
      return list(-2);
    case StartAt::kEnd:
      return list(-1);
    case StartAt::kOffset:
      return args_.offset;
    case StartAt::kTimestamp:
      return list(args_.timestamp_ms);
    case StartAt::kDefault:
      break;
  }
  auto c = committed.find(p);
  return c != committed.end() ? c->second : list(-1);
}

bool Consumer::done() const {
  if (stop_requested()) return true;
  if (args_.max_messages >= 0 && printed_ >= args_.max_messages) return true;
  if (!args_.exit_at_end) return false;
  for (const auto& [p, pos] : positions_) {
    if (pos.high_watermark < 0 || pos.offset < pos.high_watermark) return false;
  }
  return true;
}

void Consumer::run() {
  for (int attempt = 1; !done();) {
    std::vector<int32_t> all, leaderless;
    for (const auto& [p, pos] : positions_) all.push_back(p);
    auto routes = client_.cluster().by_leader(args_.topic, all, &leaderless);
    bool stale = !leaderless.empty();
    for (const auto& [leader, partitions] : routes) {
      if (done()) break;
      try {
        fetch_from(leader, partitions, stale);
      } catch (const BrokerUnavailable&) {
        stale = true;  // the leader may be dead; its partitions will move
      }
    }
    if (!args_.group.empty() && monotonic_ms() - last_commit_ms_ >= 1000) commit();
    if (!stale) {
      attempt = 1;
      continue;
    }
    client_.backoff(attempt++, "the leaders of topic '" + args_.topic + "'");
    client_.refresh_metadata({args_.topic});
  }
}

void Consumer::fetch_from(int32_t leader, const std::vector<int32_t>& partitions, bool& stale) {
  kafka::FetchRequest request;
  request.max_wait_ms = args_.max_wait_ms;
  request.min_bytes = 1;
  request.max_bytes = 50 << 20;
  auto& t = request.topics.emplace_back();
  t.topic = args_.topic;
  for (int32_t p : partitions) {
    kafka::FetchRequest::Partition fp;
    fp.partition = p;
    fp.fetch_offset = positions_[p].offset;
    fp.partition_max_bytes = 1 << 20;
    t.partitions.push_back(fp);
  }
  std::string frame;
  auto response = client_.call<kafka::FetchResponse>(leader, versions::kFetch, request, &frame);
  if (response.error_code != ErrorCode::kNone) {
    throw ClientError("Fetch: " + kafka_error_name(response.error_code));
  }
  for (const auto& rt : response.responses) {
    for (const auto& rp : rt.partitions) handle_partition(rp, stale);
  }
  print(out_);
  out_.clear();
}

void Consumer::handle_partition(const kafka::FetchResponse::Partition& rp, bool& stale) {
  auto it = positions_.find(rp.partition_index);
  if (it == positions_.end()) return;
  Position& pos = it->second;
  if (rp.error_code != ErrorCode::kNone) {
    if (is_retriable_error(rp.error_code)) {
      stale = true;
      return;
    }
    throw ClientError("fetching " + args_.topic + "/" + std::to_string(rp.partition_index) +
                      " at offset " + std::to_string(pos.offset) + ": " +
                      kafka_error_name(rp.error_code));
  }
  pos.high_watermark = rp.high_watermark;
  auto walk = walk_records(rp.records.bytes, args_.topic, rp.partition_index, pos.offset,
                           [this, &pos](const Message& m) {
                             if (json_) {
                               render_json(m, out_);
                               out_.push_back('\n');
                             } else {
                               format_.render(m, out_);
                             }
                             pos.offset = m.offset + 1;
                             ++printed_;
                             return args_.max_messages < 0 || printed_ < args_.max_messages;
                           });
  if (walk.error != kafka::BatchError::kOk) {
    throw ClientError("bad record batch in " + args_.topic + "/" +
                      std::to_string(rp.partition_index) + ": " +
                      std::string(kafka::batch_error_name(walk.error)));
  }
  // Control batches and records before the position still move it on.
  if (walk.next_offset > pos.offset && (args_.max_messages < 0 || printed_ < args_.max_messages)) {
    pos.offset = walk.next_offset;
  }
}

void Consumer::commit() {
  last_commit_ms_ = monotonic_ms();
  std::map<int32_t, int64_t> changed;
  for (const auto& [p, pos] : positions_) {
    auto c = committed_.find(p);
    if (c == committed_.end() || c->second != pos.offset) changed[p] = pos.offset;
  }
  commit_offsets(client_, args_.group, args_.topic, changed);
  for (const auto& [p, offset] : changed) committed_[p] = offset;
}

}  // namespace

int run_consume(const Invocation& inv) {
  if (!inv.consume.share_group.empty()) return run_share_consume(inv);
  std::string error;
  auto format = OutputFormat::parse(inv.consume.format, &error);
  if (!format) throw usage_error(error);
  KafkaClient client(client_config(inv.common));
  const TopicInfo topic = client.wait_for_topic(inv.consume.topic);
  install_stop_signals();
  Consumer consumer(client, inv, std::move(*format));
  consumer.start(topic);
  consumer.run();
  if (!inv.consume.group.empty()) consumer.commit();
  return 0;
}

}  // namespace dmq::client
