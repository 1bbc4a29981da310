#include <algorithm>
#include <chrono>
#include <deque>

#include <asio/steady_timer.hpp>

#include "kafka/protocol/message_set.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"
#include "kafka/server/quota_gate.h"
#include "kafka/server/request_trace.h"
#include "kafka/server/server_metrics.h"

namespace dmq::kafka {
namespace {

// One Produce request in flight: the answer fills in as partitions are
// acknowledged; the last acknowledgement sends it.
struct ProduceState {
  explicit ProduceState(asio::io_context& io) : timeout(io) {}
  ExchangePtr ex;
  ProduceResponse resp;
  int pending = 1;  // one for the loop that starts the appends
  ErrorCode first_error = ErrorCode::kNone;
  bool finished = false;
  // acks=all: the request's timeout_ms. The HW may not pass a batch for a
  // long time (a follower stalls before the ISR shrinks, or the ISR cannot
  // shrink while the controllers are unreachable); Kafka then answers
  // REQUEST_TIMED_OUT and the client retries (deduplicated when idempotent).
  asio::steady_timer timeout;
  // Magic-2 batches converted from old message sets; they live until the
  // appends that read them are done (a deque never moves its elements).
  std::deque<std::string> converted;
  // Tracing: the request's span, and per partition (in request order) when
  // its local append ended, the start of its acknowledgement wait.
  trace::Span span;
  std::vector<int64_t> append_ended;
};

trace::Span start_produce_span(const Exchange& ex, const ProduceRequest& req) {
  if (!trace::tracer().enabled()) return {};
  std::optional<trace::SpanContext> parent;
  if (!req.topics.empty() && !req.topics[0].partitions.empty())
    parent = traceparent_in_records(req.topics[0].partitions[0].records.bytes);
  const int64_t received = unix_ns_at(ex.received);
  trace::Span span = start_request_span(ex, "kafka.produce", received, parent);
  if (!span.active()) return span;
  span.set("kafka.acks", int64_t{req.acks});
  if (!req.topics.empty()) span.set("messaging.destination.name", std::string(req.topics[0].name));
  record_child(span, "receive", received, trace::now_unix_ns());
  return span;
}

// The partition's stages as children of the request's span: its append (the
// write into the log), the leader's group commit (fsync) and, for acks=all,
// the wait for the ISR's replicas.
void trace_partition(const ProduceState& st, size_t slot, const ProduceResult& r, int32_t index) {
  if (!st.span.active() || slot >= st.append_ended.size()) return;
  const std::string partition = std::to_string(index);
  const int64_t now = trace::now_unix_ns();
  const int64_t appended = st.append_ended[slot];
  if (r.durable_unix_ns > 0) {
    record_child(st.span, "group_commit", appended, r.durable_unix_ns, partition);
    record_child(st.span, "replication_wait", r.durable_unix_ns, now, partition);
  } else {
    record_child(st.span, "acknowledgement_wait", appended, now, partition);
  }
}

void finish(ProduceState& st) {
  st.finished = true;
  st.timeout.cancel();
  if (st.first_error != ErrorCode::kNone) st.span.fail(std::string(error_name(st.first_error)));
  const auto& req = std::get<ProduceRequest>(st.ex->request.body);
  if (req.acks == 0) {
    // No answer at all for acks=0 (the clients expect none). On an error
    // Kafka closes the connection so that the producer refreshes metadata.
    Response r;
    r.send = false;
    r.close_after = st.first_error != ErrorCode::kNone;
    r.error = st.first_error;
    st.ex->respond(std::move(r));
    return;
  }
  st.ex->respond(make_response(*st.ex, st.resp, st.first_error));
  st.span.end();
}

void note_error(ProduceState& st, ProduceResponse::Partition& out, ErrorCode e) {
  out.error_code = e;
  if (st.first_error == ErrorCode::kNone) st.first_error = e;
}

// The bytes to append for one partition: the request's own batch, or for
// Produce v0-v2 its message set of magic 0/1 converted into one magic-2 batch
// (Kafka with message.format.version 2 converts the same way).
struct PartitionInput {
  RecordSetInfo info;
  char* data = nullptr;
  size_t size = 0;
};

PartitionInput validate_input(ProduceState& st, int16_t version, std::string_view records,
                              const BatchLimits& limits) {
  PartitionInput in;
  if (version < 3 && records_magic(records) >= 0 && records_magic(records) < 2) {
    LegacyConversion c = convert_message_set(records, limits.max_batch_bytes);
    if (c.error != BatchError::kOk) {
      in.info.error = c.error;
      return in;
    }
    std::string& batch = st.converted.emplace_back(std::move(c.batch));
    in.info = validate_record_set(batch, limits);
    in.data = batch.data();
    in.size = batch.size();
    return in;
  }
  in.info = validate_record_set(records, limits);
  in.data = mutable_bytes(*st.ex->frame, records);
  in.size = records.size();
  return in;
}

void arm_timeout(const std::shared_ptr<ProduceState>& st, int32_t timeout_ms) {
  st->timeout.expires_after(std::chrono::milliseconds(std::max(timeout_ms, 0)));
  st->timeout.async_wait([st](const asio::error_code& ec) {
    if (ec || st->finished) return;
    // Not yet answered: neither an error nor an offset.
    for (auto& topic : st->resp.topics) {
      for (auto& out : topic.partitions) {
        if (out.error_code == ErrorCode::kNone && out.base_offset < 0)
          note_error(*st, out, ErrorCode::kRequestTimedOut);
      }
    }
    finish(*st);
  });
}

// Appends one partition's batch; its acknowledgement fills in the answer.
// `transactional_id`: the request's; its batches go through the
// transaction checks (Backend::produce_transactional).
void append_partition(HandlerContext& ctx, const std::shared_ptr<ProduceState>& st,
                      std::string_view topic, PartitionId partition, const PartitionInput& in,
                      Acks acks, size_t ti, size_t pi,
                      std::optional<std::string_view> transactional_id) {
  ++st->pending;
  const bool traced = st->span.active();
  const size_t slot = st->append_ended.size();
  const int64_t append_started = traced ? trace::now_unix_ns() : 0;
  if (traced) st->append_ended.push_back(append_started);  // until the append returns
  auto answered = [st, ti, pi, slot](const ProduceResult& r) {
    if (st->finished) return;  // answered by the timeout
    auto& o = st->resp.topics[ti].partitions[pi];
    trace_partition(*st, slot, r, o.index);
    if (r.error != ErrorCode::kNone) note_error(*st, o, r.error);
    o.base_offset = r.base_offset.value;
    o.log_start_offset = r.log_start_offset.value;
    o.log_append_time_ms = r.log_append_time_ms;
    if (--st->pending == 0) finish(*st);
  };
  const ValidatedBatch batch{std::span<char>(in.data, in.size), in.info.first, traced};
  if (transactional_id) {
    ctx.backend.produce_transactional(topic, partition, batch, acks, *transactional_id,
                                      std::move(answered));
  } else {
    ctx.backend.produce(topic, partition, batch, acks, std::move(answered));
  }
  if (traced) {
    st->append_ended[slot] = trace::now_unix_ns();
    record_child(st->span, "append", append_started, st->append_ended[slot],
                 std::to_string(partition.value));
  }
}

}  // namespace

void handle_produce(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<ProduceRequest>(ex->request.body);
  const int16_t version = ex->request.header.api_version;
  if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
    ex->respond(make_error(*ex, ErrorCode::kInvalidRequiredAcks));
    return;
  }
  const AccessCheck access(*ex);
  if (req.transactional_id && !access.allowed(AclOperation::kWrite, ResourceType::kTransactionalId,
                                              *req.transactional_id)) {
    ex->respond(make_error(*ex, ErrorCode::kTransactionalIdAuthorizationFailed));
    return;
  }
  if (ctx.quotas) {
    // Kafka charges the request's size, then appends all the same (KIP-219).
    auto q = ctx.quotas->resolve(*ctx.backend.metadata(), quota::Kind::kProduce, *ex);
    ctx.quotas->record(quota::Kind::kProduce, q, static_cast<double>(ex->frame->size()), *ex);
  }
  auto st = std::make_shared<ProduceState>(ctx.io);
  st->ex = ex;
  st->span = start_produce_span(*ex, req);
  const Acks acks = req.acks == -1 ? Acks::kAll : Acks::kLeader;
  auto& metrics = server_metrics();
  st->resp.topics.resize(req.topics.size());
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    const auto& t = req.topics[ti];
    st->resp.topics[ti].name = std::string(t.name);
    st->resp.topics[ti].partitions.resize(t.partitions.size());
    const bool may_write = access.topic(AclOperation::kWrite, t.name);
    for (size_t pi = 0; pi < t.partitions.size(); ++pi) {
      const auto& p = t.partitions[pi];
      auto& out = st->resp.topics[ti].partitions[pi];
      out.index = p.index;
      const PartitionId partition(p.index);
      if (!may_write) {
        note_error(*st, out, ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      ProduceTarget target = ctx.backend.produce_target(t.name, partition, acks);
      PartitionInput in;
      if (target.error == ErrorCode::kNone) {
        BatchLimits limits;
        limits.max_batch_bytes = target.max_batch_bytes;
        limits.allow_zstd = version >= 7;  // KIP-110
        in = validate_input(*st, version, p.records.bytes, limits);
        if (in.info.error != BatchError::kOk) target.error = to_error_code(in.info.error);
      }
      if (target.error != ErrorCode::kNone) {
        note_error(*st, out, target.error);
        continue;
      }
      metrics.produce_bytes.inc(static_cast<double>(p.records.bytes.size()));
      metrics.produce_batches.inc();
      auto& per_topic = metrics.topic(t.name);
      per_topic.bytes_in->inc(static_cast<double>(p.records.bytes.size()));
      per_topic.messages_in->inc(static_cast<double>(in.info.record_count));
      append_partition(ctx, st, t.name, partition, in, acks, ti, pi, req.transactional_id);
    }
  }
  if (--st->pending == 0) {
    finish(*st);
    return;
  }
  if (req.acks == -1) arm_timeout(st, req.timeout_ms);
}

}  // namespace dmq::kafka
