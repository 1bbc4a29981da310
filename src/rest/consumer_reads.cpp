// ConsumerInstances: polls (reads of the assigned partitions through ShareIo)
// and offsets (OffsetCommit/OffsetFetch against the local coordinator).
#include <memory>

#include "common/metrics.h"

#include "kafka/protocol/record_walk.h"
#include "rest/consumer_instances.h"
#include "rest/consumer_instances_internal.h"
#include "rest/local_group_calls.h"
#include "rest/record_json.h"

namespace dmq::rest {

using kafka::ErrorCode;
using net::HttpResponse;
using TopicPartition = group::TopicPartition;

void ConsumerInstances::poll(const std::string& group, const std::string& id, uint32_t max_bytes,
                             std::function<void(PollAnswer)> done) {
  Instance* in = find(Key{group, id});
  if (!in) return done(PollAnswer{not_found(Key{group, id}), {}, 0});
  in->last_used_ms = now_ms();
  if (in->topics.empty())
    return done(PollAnswer{net::json_error(409, "not_subscribed",
                                           "instance '" + id +
                                               "' has no subscription: POST "
                                               "its subscription first"),
                           {},
                           0});
  if (in->phase != Instance::Phase::kStable || in->assigned.empty()) return done(PollAnswer{});
  const Ref ref = ref_of(*in);
  // Commits what earlier polls returned before handing out more (auto.commit.enable).
  maybe_auto_commit(*in, [](std::optional<HttpResponse>) {});
  struct Gather {
    std::vector<PartitionRead> reads;
    size_t outstanding = 0;
    std::function<void(PollAnswer)> done;
  };
  auto gather = std::make_shared<Gather>();
  gather->done = std::move(done);
  gather->outstanding = in->assigned.size();
  const uint32_t share = std::max<uint32_t>(max_bytes / in->assigned.size(), 1024);
  for (const auto& tp : in->assigned) {
    auto pos = in->positions.find(tp);
    // Without a position, a read at 0 tells the log's start and end:
    // auto.offset.reset picks one of them.
    const int64_t offset = pos == in->positions.end() ? -1 : pos->second;
    const size_t slot = gather->reads.size();
    gather->reads.push_back(PartitionRead{tp, offset, {}});
    share_io_.read(tp, offset < 0 ? 0 : offset, offset < 0 ? 1 : share,
                   [this, ref, gather, slot, alive = alive_](group::ShareRead read) {
                     gather->reads[slot].read = std::move(read);
                     if (--gather->outstanding > 0) return;
                     if (!*alive) return gather->done(PollAnswer{});
                     finish_poll(ref, std::move(gather->reads), std::move(gather->done));
                   });
  }
}

void ConsumerInstances::finish_poll(const Ref& ref, std::vector<PartitionRead> reads,
                                    std::function<void(PollAnswer)> done) {
  Instance* in = find(ref, true);
  if (!in) return done(PollAnswer{});
  PollAnswer answer;
  for (auto& r : reads) {
    auto pos = in->positions.find(r.tp);
    const int64_t now_at = pos == in->positions.end() ? -1 : pos->second;
    if (now_at != r.offset) continue;  // another poll moved it meanwhile
    const bool reset = r.offset < 0 || r.read.error == ErrorCode::kOffsetOutOfRange;
    if (reset) {
      if (r.read.log_start_offset >= 0 && r.read.high_watermark >= 0)
        in->positions[r.tp] =
            in->settings.from_earliest ? r.read.log_start_offset : r.read.high_watermark;
      continue;
    }
    if (r.read.error != ErrorCode::kNone) continue;  // led elsewhere now: the next poll retries
    std::string prefix = "\"topic\":" + json_string(r.tp.topic) +
                         ",\"partition\":" + std::to_string(r.tp.partition) + ",";
    int64_t next = r.offset;
    auto walk = kafka::walk_records(r.read.batches, r.offset, [&](const kafka::RecordInLog& rec) {
      if (answer.count++) answer.records += ",";
      append_log_record(answer.records, prefix, rec.offset, rec.timestamp_ms, rec.record);
      next = rec.offset + 1;
      return true;
    });
    // Batches with no record for us (control batches, compacted ones) still move it.
    if (walk.next_offset > next) next = walk.next_offset;
    in->positions[r.tp] = next;
  }
  records_total_->inc(static_cast<double>(answer.count));
  done(std::move(answer));
}

void ConsumerInstances::commit_offsets(Instance& in, std::map<TopicPartition, int64_t> next_offsets,
                                       Committed done) {
  if (next_offsets.empty()) return done(std::nullopt);
  if (in.phase == Instance::Phase::kOut || in.member_id.empty())
    return done(coordinator_error(ErrorCode::kUnknownMemberId, "the commit"));
  kafka::OffsetCommitRequest req;
  req.group_id = in.key.first;
  req.generation_id = in.generation;
  req.member_id = in.member_id;
  for (const auto& [tp, offset] : next_offsets) {
    if (req.topics.empty() || req.topics.back().name != tp.topic)
      req.topics.push_back({tp.topic, {}});
    kafka::OffsetCommitRequest::Partition p;
    p.partition_index = tp.partition;
    p.committed_offset = offset;
    req.topics.back().partitions.push_back(p);
  }
  const Ref ref = ref_of(in);
  call_local_coordinator<kafka::OffsetCommitRequest, kafka::OffsetCommitResponse>(
      coordinator_, kCommitVersion, req,
      [this, ref, next_offsets, done](std::optional<kafka::OffsetCommitResponse> resp) {
        if (!resp) return done(coordinator_error(ErrorCode::kUnknownServerError, "the commit"));
        for (const auto& t : resp->topics)
          for (const auto& p : t.partitions)
            if (p.error_code != ErrorCode::kNone)
              return done(coordinator_error(p.error_code, "the commit of partition " +
                                                              std::to_string(p.partition_index) +
                                                              " of '" + t.name + "'"));
        if (Instance* in = find(ref, false)) {
          for (const auto& [tp, offset] : next_offsets) in->committed[tp] = offset;
        }
        done(std::nullopt);
      });
}

void ConsumerInstances::maybe_auto_commit(Instance& in, Committed done) {
  if (!in.settings.auto_commit || in.phase == Instance::Phase::kOut) return done(std::nullopt);
  std::map<TopicPartition, int64_t> next;
  for (const auto& [tp, pos] : in.positions) {
    auto c = in.committed.find(tp);
    if (c == in.committed.end() || c->second != pos) next[tp] = pos;
  }
  commit_offsets(in, std::move(next), std::move(done));
}

void ConsumerInstances::commit(const std::string& group, const std::string& id,
                               std::optional<std::vector<ConsumedOffset>> offsets, Answer done) {
  Instance* in = find(Key{group, id});
  if (!in) return done(not_found(Key{group, id}));
  in->last_used_ms = now_ms();
  std::map<TopicPartition, int64_t> next;
  if (offsets) {
    for (const auto& o : *offsets) next[o.tp] = o.offset + 1;
  } else {
    next = in->positions;
  }
  commit_offsets(*in, std::move(next), [done](std::optional<HttpResponse> error) {
    done(error ? *error : HttpResponse{200, "{}"});
  });
}

void ConsumerInstances::committed(const std::string& group, const std::string& id,
                                  std::vector<TopicPartition> partitions, Answer done) {
  Instance* in = find(Key{group, id});
  if (!in) return done(not_found(Key{group, id}));
  in->last_used_ms = now_ms();
  if (partitions.empty()) partitions = in->assigned;
  std::map<std::string, std::vector<int32_t>> wanted;
  for (const auto& tp : partitions) wanted[tp.topic].push_back(tp.partition);
  kafka::OffsetFetchRequest req;
  req.group_id = group;
  req.topics.emplace();
  for (const auto& [topic, parts] : wanted) req.topics->push_back({topic, parts});
  call_local_coordinator<kafka::OffsetFetchRequest, kafka::OffsetFetchResponse>(
      coordinator_, kFetchOffsetsVersion, req,
      [done](std::optional<kafka::OffsetFetchResponse> resp) {
        if (!resp) return done(coordinator_error(ErrorCode::kUnknownServerError, "the fetch"));
        if (resp->error_code != ErrorCode::kNone)
          return done(coordinator_error(resp->error_code, "the offset fetch"));
        std::string j = "{\"offsets\":[";
        size_t n = 0;
        for (const auto& t : resp->topics)
          for (const auto& p : t.partitions) {
            if (n++) j += ",";
            j += "{\"topic\":" + json_string(t.name) +
                 ",\"partition\":" + std::to_string(p.partition_index) +
                 ",\"offset\":" + std::to_string(p.committed_offset) +
                 ",\"metadata\":" + (p.metadata ? json_string(*p.metadata) : std::string("\"\"")) +
                 "}";
          }
        done(HttpResponse{200, j + "]}"});
      });
}

}  // namespace dmq::rest
