// `dmq consume TOPIC`: fetches from every partition's leader and prints each
// record with --format or as JSON, until --max-messages, the end of every
// partition (--exit-at-end) or SIGINT. With --group, the consumer joins the
// group (GroupMember, what KafkaConsumer.subscribe() does), reads the
// partitions the group assigns it from their committed offsets and commits
// every second, before each rebalance and on exit, then leaves the group.
// With --group and --partition it reads that partition as a simple consumer
// and commits with generation -1 (what KafkaConsumer.assign() +
// commitSync() sends).

#include <algorithm>
#include <chrono>
#include <thread>

#include "client/commands.h"
#include "client/format.h"
#include "client/group_member.h"
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
  void finish();

 private:
  void start_at(const std::vector<int32_t>& partitions);
  int64_t start_offset(int32_t p, const std::map<int32_t, int64_t>& committed);
  kafka::ErrorCode commit();
  void keep_membership();
  void rebalance(kafka::ErrorCode why);
  bool done() const;
  void fetch_from(int32_t leader, const std::vector<int32_t>& partitions, bool& stale);
  void handle_partition(const kafka::FetchResponse::Partition& rp, bool& stale);

  KafkaClient& client_;
  const ConsumeArgs& args_;
  bool json_;
  OutputFormat format_;
  std::map<int32_t, Position> positions_;
  std::map<int32_t, int64_t> committed_;
  std::optional<GroupMember> member_;  // --group without --partition
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
  if (args_.group.empty() || args_.partition)
    return start_at(partitions_of(topic, args_.partition));
  member_.emplace(client_, args_.group, std::vector<std::string>{args_.topic},
                  args_.session_timeout_ms);
  auto assigned = member_->join();
  start_at(assigned[args_.topic]);
}

void Consumer::start_at(const std::vector<int32_t>& partitions) {
  positions_.clear();
  committed_.clear();
  std::map<int32_t, int64_t> committed;
  if (!args_.group.empty() && !partitions.empty())
    committed = fetch_committed(client_, args_.group, args_.topic, partitions);
  for (int32_t p : partitions) {
    positions_[p] = Position{start_offset(p, committed), -1};
    if (member_ && committed.count(p)) committed_[p] = committed.at(p);
  }
}

// A group member resumes from the group's committed offset; the start option
// only places partitions the group never committed (auto.offset.reset).
int64_t Consumer::start_offset(int32_t p, const std::map<int32_t, int64_t>& committed) {
  auto c = committed.find(p);
  if (member_ && c != committed.end()) return c->second;
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
    if (member_) keep_membership();
    if (!args_.group.empty() && monotonic_ms() - last_commit_ms_ >= 1000) {
      kafka::ErrorCode error = commit();
      if (error != ErrorCode::kNone) rebalance(error);
    }
    if (positions_.empty())
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(args_.max_wait_ms, 200)));  // nothing assigned
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

// Commits the positions that moved: as a simple consumer (throws on a
// refusal) or as the group member (returns the coordinator's error).
ErrorCode Consumer::commit() {
  last_commit_ms_ = monotonic_ms();
  std::map<int32_t, int64_t> changed;
  for (const auto& [p, pos] : positions_) {
    auto c = committed_.find(p);
    if (c == committed_.end() || c->second != pos.offset) changed[p] = pos.offset;
  }
  if (!member_) {
    commit_offsets(client_, args_.group, args_.topic, changed);
  } else if (ErrorCode error = member_->commit(args_.topic, changed); error != ErrorCode::kNone) {
    if (error == ErrorCode::kRebalanceInProgress || error == ErrorCode::kIllegalGeneration ||
        error == ErrorCode::kUnknownMemberId || error == ErrorCode::kFencedInstanceId)
      return error;
    throw ClientError("committing offsets of group '" + args_.group +
                      "': " + kafka_error_name(error));
  }
  for (const auto& [p, offset] : changed) committed_[p] = offset;
  return ErrorCode::kNone;
}

void Consumer::keep_membership() {
  ErrorCode error = member_->heartbeat_if_due();
  if (error != ErrorCode::kNone) rebalance(error);
}

// The group is rebalancing (or dropped this member): commit what was printed
// while the generation still holds, so the next owner of each partition
// starts after it, then join again and read the new assignment from the
// group's committed offsets.
void Consumer::rebalance(ErrorCode why) {
  if (why == ErrorCode::kRebalanceInProgress) why = commit();
  if (why != ErrorCode::kNone && why != ErrorCode::kRebalanceInProgress) {
    member_->forget_membership();  // the commit is lost; the next owner rereads those records
  }
  auto assigned = member_->join();
  start_at(assigned[args_.topic]);
}

// SIGINT, --max-messages or --exit-at-end: commit what was printed and leave.
void Consumer::finish() {
  if (args_.group.empty()) return;
  commit();
  if (member_) member_->leave();
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
  consumer.finish();
  return 0;
}

}  // namespace dmq::client
