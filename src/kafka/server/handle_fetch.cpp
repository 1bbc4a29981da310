#include <algorithm>

#include <set>

#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"
#include "kafka/server/server_metrics.h"

namespace dmq::kafka {
namespace {

// A Fetch being served: it is evaluated, and parked until data arrives or
// max_wait passes when it does not yet have min_bytes (the long poll).
struct FetchState {
  ExchangePtr ex;
  std::chrono::steady_clock::time_point deadline;
  std::vector<TopicPartition> partitions;
  std::set<std::string, std::less<>> denied_topics;  // no READ: decided once, at arrival
};

struct Round {
  FetchResponse resp;
  std::vector<RecordChunk> chunks;
  size_t bytes = 0;
  ErrorCode first_error = ErrorCode::kNone;
};

Round read_all(HandlerContext& ctx, const FetchRequest& req,
               const std::set<std::string, std::less<>>& denied_topics) {
  Round round;
  auto image = ctx.backend.metadata();
  // Response max_bytes bounds the total; the first batch found is returned even
  // if it is larger than either limit, or a consumer could never progress (KIP-74).
  const size_t budget = req.max_bytes > 0 ? static_cast<size_t>(req.max_bytes) : SIZE_MAX;
  for (const auto& t : req.topics) {
    FetchResponse::Topic out_topic;
    out_topic.topic = std::string(t.topic);
    for (const auto& p : t.partitions) {
      FetchResponse::Partition out;
      out.partition_index = p.partition;
      size_t remaining = budget > round.bytes ? budget - round.bytes : 0;
      auto max = static_cast<uint32_t>(std::min<size_t>(
          {remaining, static_cast<size_t>(std::max(p.partition_max_bytes, 0)), size_t{INT32_MAX}}));
      FetchRead r;
      r.error = denied_topics.count(t.topic)
                    ? ErrorCode::kTopicAuthorizationFailed
                    : check_leader_epoch(*image, t.topic, p.partition, p.current_leader_epoch);
      if (r.error == ErrorCode::kNone)
        r = ctx.backend.fetch(t.topic, PartitionId(p.partition), Offset(p.fetch_offset),
                              std::max<uint32_t>(max, 1), BrokerId(req.replica_id),
                              LeaderEpoch(p.current_leader_epoch));
      out.error_code = r.error;
      out.high_watermark = r.high_watermark.value;
      out.last_stable_offset = r.last_stable_offset.value;
      out.log_start_offset = r.log_start_offset.value;
      if (req.isolation_level == 1) out.aborted_transactions.emplace();  // none: no transactions
      out.records = Records::view({});
      if (r.error != ErrorCode::kNone && round.first_error == ErrorCode::kNone)
        round.first_error = r.error;
      if (r.records && r.records->length > 0) {
        const uint32_t len = r.records->length;
        const bool fits = round.bytes == 0 || (round.bytes + len <= budget && len <= max);
        if (fits) {
          out.records = Records::external(round.chunks.size(), len);
          round.chunks.push_back(std::move(*r.records));
          round.bytes += len;
        }
      }
      out_topic.partitions.push_back(std::move(out));
    }
    round.resp.responses.push_back(std::move(out_topic));
  }
  return round;
}

void evaluate(HandlerContext& ctx, const std::shared_ptr<FetchState>& st) {
  const auto& req = std::get<FetchRequest>(st->ex->request.body);
  Round round = read_all(ctx, req, st->denied_topics);
  auto now = std::chrono::steady_clock::now();
  const bool enough = round.bytes >= static_cast<size_t>(std::max(req.min_bytes, 0));
  if (enough || round.first_error != ErrorCode::kNone || now >= st->deadline) {
    auto& metrics = server_metrics();
    metrics.fetch_bytes.inc(static_cast<double>(round.bytes));
    for (const auto& t : round.resp.responses)
      for (const auto& p : t.partitions)
        if (p.records.size() > 0) metrics.topic(t.topic).bytes_out->inc(p.records.size());
    round.resp.session_id = 0;  // no fetch sessions (KIP-227): clients send 0/-1
    Response r = make_response(*st->ex, round.resp, round.first_error);
    r.chunks = std::move(round.chunks);
    st->ex->respond(std::move(r));
    return;
  }
  // Park: woken by an append that moves a high watermark, or by the deadline.
  HandlerContext* c = &ctx;
  ctx.backend.park(st->partitions,
                   std::chrono::duration_cast<std::chrono::milliseconds>(st->deadline - now) +
                       std::chrono::milliseconds(1),
                   BrokerId(req.replica_id), [c, st] { evaluate(*c, st); });
}

}  // namespace

void handle_fetch(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<FetchRequest>(ex->request.body);
  const AccessCheck access(*ex);
  if (req.replica_id >= 0 && !access.inter_broker()) {
    ex->respond(make_error(*ex, ErrorCode::kClusterAuthorizationFailed));
    return;
  }
  auto st = std::make_shared<FetchState>();
  st->ex = ex;
  if (req.replica_id < 0) {
    for (const auto& t : req.topics)
      if (!access.topic(AclOperation::kRead, t.topic)) st->denied_topics.emplace(t.topic);
  }
  st->deadline = ex->received + std::chrono::milliseconds(std::max(req.max_wait_ms, 0));
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions)
      st->partitions.push_back({std::string(t.topic), PartitionId(p.partition)});
  evaluate(ctx, st);
}

}  // namespace dmq::kafka
