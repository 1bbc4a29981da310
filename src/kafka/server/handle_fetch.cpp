#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "kafka/protocol/message_set.h"
#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"
#include "kafka/server/quota_gate.h"
#include "kafka/server/request_trace.h"
#include "kafka/server/server_metrics.h"
#include "net/worker_pool.h"

namespace dmq::kafka {
namespace {

// A Fetch being served: it is evaluated, and parked until data arrives or
// max_wait passes when it does not yet have min_bytes (the long poll).
struct FetchState {
  ExchangePtr ex;
  std::chrono::steady_clock::time_point deadline;
  std::vector<TopicPartition> partitions;
  // Per request topic: its name (Fetch v13+ names topics by id; an id the
  // image does not know leaves the name empty and answers UNKNOWN_TOPIC_ID).
  std::vector<std::string> names;
  std::set<std::string, std::less<>> denied_topics;  // no READ: decided once, at arrival
  trace::Span span;                                  // consumers' fetches only
  bool parked = false;
  quota::Resolved quota;  // consumer_byte_rate; unlimited for replicas
};

struct Round {
  FetchResponse resp;
  std::vector<RecordChunk> chunks;
  size_t bytes = 0;
  ErrorCode first_error = ErrorCode::kNone;
};

Round read_all(HandlerContext& ctx, const FetchRequest& req, const FetchState& st) {
  Round round;
  auto image = ctx.backend.metadata();
  // Response max_bytes bounds the total; the first batch found is returned even
  // if it is larger than either limit, or a consumer could never progress (KIP-74).
  const size_t budget = req.max_bytes > 0 ? static_cast<size_t>(req.max_bytes) : SIZE_MAX;
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    const auto& t = req.topics[ti];
    const std::string& name = st.names[ti];
    FetchResponse::Topic out_topic;
    out_topic.topic = name;
    out_topic.topic_id = t.topic_id;
    for (const auto& p : t.partitions) {
      FetchResponse::Partition out;
      out.partition_index = p.partition;
      size_t remaining = budget > round.bytes ? budget - round.bytes : 0;
      auto max = static_cast<uint32_t>(std::min<size_t>(
          {remaining, static_cast<size_t>(std::max(p.partition_max_bytes, 0)), size_t{INT32_MAX}}));
      FetchRead r;
      r.error = name.empty() ? ErrorCode::kUnknownTopicId
                : st.denied_topics.count(name)
                    ? ErrorCode::kTopicAuthorizationFailed
                    : check_leader_epoch(*image, name, p.partition, p.current_leader_epoch);
      const bool read_committed = req.isolation_level == 1 && req.replica_id < 0;
      if (r.error == ErrorCode::kNone && read_committed) {
        r = ctx.backend.fetch_committed(name, PartitionId(p.partition), Offset(p.fetch_offset),
                                        std::max<uint32_t>(max, 1),
                                        LeaderEpoch(p.current_leader_epoch));
      } else if (r.error == ErrorCode::kNone) {
        r = ctx.backend.fetch(name, PartitionId(p.partition), Offset(p.fetch_offset),
                              std::max<uint32_t>(max, 1), BrokerId(req.replica_id),
                              LeaderEpoch(p.current_leader_epoch));
      }
      out.error_code = r.error;
      out.high_watermark = r.high_watermark.value;
      out.last_stable_offset = r.last_stable_offset.value;
      out.log_start_offset = r.log_start_offset.value;
      if (req.isolation_level == 1) {
        auto& aborted = out.aborted_transactions.emplace();
        for (const auto& a : r.aborted) aborted.push_back({a.producer_id, a.first_offset});
      }
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

// The bytes of a chunk (a file range is read with pread).
std::string chunk_bytes(const RecordChunk& c) {
  if (c.fd < 0) return c.bytes;
  std::string out(c.length, '\0');
  size_t done = 0;
  while (done < c.length) {
    ssize_t n =
        ::pread(c.fd, out.data() + done, c.length - done, static_cast<off_t>(c.position + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

// Fetch v0-v3 clients read only message sets of magic 0 (v0-v1) or 1 (v2-v3):
// each stored range is read and down-converted into owned bytes, leaving the
// log as it is. Its cost is bounded by what the request may return
// (partition_max_bytes per partition, and max_bytes from v3), the same bound
// as the bytes it replaces; it runs on the down-conversion workers
// (bench/fetch_downconvert_bench.py measures what it costs other clients).
// Any thread: it touches only the round and the request's frame.
void down_convert_round(Round& round, const FetchRequest& req, int16_t version) {
  const int8_t magic = version <= 1 ? 0 : 1;
  for (size_t ti = 0; ti < round.resp.responses.size(); ++ti) {
    auto& topic = round.resp.responses[ti];
    for (size_t pi = 0; pi < topic.partitions.size(); ++pi) {
      auto& p = topic.partitions[pi];
      if (p.records.kind != Records::Kind::kExternal) continue;
      RecordChunk& chunk = round.chunks[p.records.external_id];
      const auto& asked = req.topics[ti].partitions[pi];
      DownConversion c = down_convert(chunk_bytes(chunk), magic, asked.fetch_offset,
                                      static_cast<size_t>(std::max(asked.partition_max_bytes, 1)));
      if (c.error != BatchError::kOk) p.error_code = ErrorCode::kCorruptMessage;
      RecordChunk owned;
      owned.length = static_cast<uint32_t>(c.message_set.size());
      owned.bytes = std::move(c.message_set);
      chunk = std::move(owned);
      p.records = chunk.length > 0 ? Records::external(p.records.external_id, chunk.length)
                                   : Records::view({});
    }
  }
}

// On the loop: sends the encoded answer and ends the request's span.
void send_answer(const std::shared_ptr<FetchState>& st, Response r, size_t bytes) {
  const ErrorCode error = r.error;
  st->ex->respond(std::move(r));
  if (st->span.active()) {
    st->span.set("kafka.fetch.bytes", static_cast<int64_t>(bytes));
    st->span.set("kafka.fetch.parked", int64_t{st->parked});
    if (error != ErrorCode::kNone) st->span.fail(std::string(error_name(error)));
    st->span.end();
  }
}

// Encodes and sends the round. An old version's round is down-converted and
// encoded on a worker first and its answer posted back to the loop; the
// connection keeps answers in request order whenever they complete.
void answer(HandlerContext& ctx, const std::shared_ptr<FetchState>& st, Round round) {
  const int16_t version = st->ex->request.header.api_version;
  auto encode = [st](Round& done) {
    Response r = make_response(*st->ex, done.resp, done.first_error);
    r.chunks = std::move(done.chunks);
    return r;
  };
  if (version > 3 || ctx.down_conversion == nullptr) {
    if (version <= 3)
      down_convert_round(round, std::get<FetchRequest>(st->ex->request.body), version);
    const size_t bytes = round.bytes;
    return send_answer(st, encode(round), bytes);
  }
  if (st->ex->expect_answer_bytes) st->ex->expect_answer_bytes(round.bytes);
  auto shared = std::make_shared<Round>(std::move(round));
  ctx.down_conversion->submit([io = &ctx.io, st, shared, version, encode] {
    down_convert_round(*shared, std::get<FetchRequest>(st->ex->request.body), version);
    auto r = std::make_shared<Response>(encode(*shared));
    asio::post(*io, [st, r, bytes = shared->bytes] { send_answer(st, std::move(*r), bytes); });
  });
}

void evaluate(HandlerContext& ctx, const std::shared_ptr<FetchState>& st) {
  const auto& req = std::get<FetchRequest>(st->ex->request.body);
  Round round = read_all(ctx, req, *st);
  auto now = std::chrono::steady_clock::now();
  const bool enough = round.bytes >= static_cast<size_t>(std::max(req.min_bytes, 0));
  auto deadline = st->deadline;
  if (req.replica_id >= 0) {
    // A follower that was just given a partition here re-plans its fetch
    // sooner than max_wait_ms (the partition's first acks=all write waits for it).
    deadline = std::min(deadline,
                        ctx.backend.replica_answer_by(BrokerId(req.replica_id), st->ex->received));
  }
  if (enough || round.first_error != ErrorCode::kNone || now >= deadline) {
    auto& metrics = server_metrics();
    metrics.fetch_bytes.inc(static_cast<double>(round.bytes));
    for (const auto& t : round.resp.responses)
      for (const auto& p : t.partitions)
        if (p.records.size() > 0) metrics.topic(t.topic).bytes_out->inc(p.records.size());
    round.resp.session_id = 0;  // no fetch sessions (KIP-227): clients send 0/-1
    if (ctx.quotas)
      ctx.quotas->record(quota::Kind::kFetch, st->quota, static_cast<double>(round.bytes), *st->ex);
    answer(ctx, st, std::move(round));
    return;
  }
  st->parked = true;
  // Park: woken by an append that moves a high watermark, or by the deadline.
  HandlerContext* c = &ctx;
  ctx.backend.park(st->partitions,
                   std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
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
  if (ctx.quotas && req.replica_id < 0) {
    st->quota = ctx.quotas->resolve(*ctx.backend.metadata(), quota::Kind::kFetch, *ex);
    if (ctx.quotas->owed(quota::Kind::kFetch, st->quota, *ex) > 0) {
      // Over its quota: an empty answer now, carrying the throttle time, as
      // Kafka's throttled fetch response (no partitions, no records).
      FetchResponse empty;
      empty.session_id = 0;
      ex->respond(make_response(*ex, empty));
      return;
    }
  }
  st->deadline = ex->received + std::chrono::milliseconds(std::max(req.max_wait_ms, 0));
  if (req.replica_id < 0) {
    st->span = start_request_span(*ex, "kafka.fetch", unix_ns_at(ex->received));
    st->span.set("kafka.fetch.max_wait_ms", int64_t{req.max_wait_ms});
  }
  const bool by_id = ex->request.header.api_version >= 13;
  auto image = by_id ? ctx.backend.metadata() : nullptr;
  for (const auto& t : req.topics) {
    std::string& name = st->names.emplace_back(by_id ? "" : std::string(t.topic));
    if (by_id) {
      if (const auto* topic = find_topic_by_id(*image, t.topic_id)) name = topic->name;
    }
    if (name.empty()) continue;
    if (req.replica_id < 0 && !access.topic(AclOperation::kRead, name))
      st->denied_topics.emplace(name);
    for (const auto& p : t.partitions) st->partitions.push_back({name, PartitionId(p.partition)});
  }
  evaluate(ctx, st);
}

}  // namespace dmq::kafka
