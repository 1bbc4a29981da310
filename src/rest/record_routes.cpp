#include "rest/record_routes.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <variant>

#include "kafka/protocol/partitioning.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/protocol/record_walk.h"
#include "net/json_body.h"
#include "rest/forward.h"
#include "rest/query_params.h"
#include "rest/record_json.h"

namespace dmq::rest {
namespace {

using kafka::ErrorCode;
using net::HttpResponse;
using net::json_error;

constexpr const char* kForwardedHeader = "X-DMQ-Forwarded";
constexpr int64_t kMaxTimeoutMs = 30000;
constexpr uint32_t kDefaultMaxBytes = 1u << 20;
constexpr uint32_t kMaxMaxBytes = 8u << 20;
constexpr size_t kDefaultMaxRecords = 10000;
// Records of one partition are cut into batches of about this size, below
// Kafka's default max.message.bytes (1 MiB), so one request can hold more
// than one batch's worth.
constexpr size_t kBatchTargetBytes = 512u << 10;
// How long a handler waits for the acknowledgement or the read beyond the
// request's own wait.
constexpr auto kLoopSlack = std::chrono::milliseconds(30000);

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "kNotLeaderOrFollower" -> "not_leader_or_follower".
std::string snake_case(std::string_view enumerator) {
  std::string out;
  for (size_t i = 1; i < enumerator.size(); ++i) {
    const char c = enumerator[i];
    if (c >= 'A' && c <= 'Z') {
      if (i > 1) out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

HttpResponse kafka_error(ErrorCode code, const std::string& message) {
  int status = 500;
  switch (code) {
    case ErrorCode::kUnknownTopicOrPartition:
      status = 404;
      break;
    case ErrorCode::kMessageTooLarge:
    case ErrorCode::kRecordListTooLarge:
      status = 413;
      break;
    case ErrorCode::kOffsetOutOfRange:
      status = 416;
      break;
    case ErrorCode::kCorruptMessage:
    case ErrorCode::kInvalidRecord:
    case ErrorCode::kInvalidTopicException:
      status = 400;
      break;
    case ErrorCode::kNotLeaderOrFollower:
    case ErrorCode::kLeaderNotAvailable:
    case ErrorCode::kNotEnoughReplicas:
    case ErrorCode::kNotEnoughReplicasAfterAppend:
    case ErrorCode::kRequestTimedOut:
    case ErrorCode::kKafkaStorageError:
      status = 503;
      break;
    default:
      break;
  }
  return json_error(status, snake_case(kafka::error_name(code)), message);
}

struct Context {
  net::EventLoop& loop;
  group::ShareIo* io;
  broker::Backend* backend;
  const broker::MetadataView& view;
  int32_t self_id;
  std::atomic<uint32_t> unkeyed_round_robin{0};
};

using Image = std::shared_ptr<const cluster::MetadataImage>;

// The topic's partition count, or the answer for an unknown or internal topic.
std::variant<int32_t, HttpResponse> partition_count(const Image& image, const std::string& topic) {
  auto t = image->topics.find(topic);
  if (t == image->topics.end() || t->second.partitions.empty())
    return json_error(404, "unknown_topic", "no topic named '" + topic + "'");
  if (topic.starts_with("__"))
    return json_error(400, "invalid_topic",
                      "'" + topic + "' is an internal topic; only DMQ writes and reads it here");
  return static_cast<int32_t>(t->second.partitions.size());
}

// Any node that can serve `partition` of `topic` (its leader) or, for
// partition -1, any live broker.
std::optional<std::pair<int32_t, const cluster::BrokerRegistration*>> serving_node(
    const Image& image, const std::string& topic, int32_t partition) {
  if (partition < 0) {
    for (const auto& [id, b] : image->brokers)
      if (!b.fenced) return std::make_pair(id.value, &b);
    return std::nullopt;
  }
  const auto& p = image->topics.at(topic).partitions[static_cast<size_t>(partition)];
  auto b = image->brokers.find(p.leader);
  if (b == image->brokers.end() || b->second.fenced) return std::nullopt;
  return std::make_pair(p.leader.value, &b->second);
}

std::optional<HttpResponse> relay(const Context& ctx, const httplib::Request& req,
                                  const Image& image, const std::string& topic, int32_t partition,
                                  int64_t wait_ms) {
  if (req.has_header(kForwardedHeader))
    return json_error(503, "not_leader_or_follower",
                      "this node no longer leads the partition; retry");
  auto node = serving_node(image, topic, partition);
  if (!node)
    return json_error(503, "leader_not_available", "no live broker serves the partition; retry");
  if (node->first == ctx.self_id) return std::nullopt;
  return forward_request(req, node->second->http_host, node->second->http_port, wait_ms,
                         kForwardedHeader, node->first);
}

// ---- produce ---------------------------------------------------------------------------

struct Batch {
  int32_t partition = 0;
  std::vector<size_t> records;  // indexes into the request's records, in order
  std::string bytes;
};

// One or more batches per partition, the request's order kept within each.
std::vector<Batch> make_batches(const std::vector<ProduceRecord>& records,
                                const std::vector<int32_t>& partition_of) {
  std::vector<Batch> batches;
  std::map<int32_t, size_t> open;  // partition -> index in `batches` of its open batch
  std::map<int32_t, kafka::RecordBatchBuilder> builders;
  std::map<int32_t, size_t> open_bytes;
  const int64_t timestamp = now_ms();
  auto close = [&](int32_t p) {
    batches[open.at(p)].bytes = builders.at(p).build();
    open.erase(p);
    builders.erase(p);
    open_bytes.erase(p);
  };
  for (size_t i = 0; i < records.size(); ++i) {
    const int32_t p = partition_of[i];
    const auto& r = records[i];
    size_t size = 32 + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
    for (const auto& [k, v] : r.headers) size += 8 + k.size() + (v ? v->size() : 0);
    if (open.count(p) && open_bytes[p] + size > kBatchTargetBytes) close(p);
    if (!open.count(p)) {
      open[p] = batches.size();
      batches.push_back(Batch{p, {}, {}});
      builders.emplace(p, kafka::RecordBatchBuilder());
    }
    std::vector<kafka::RecordHeader> headers;
    for (const auto& [k, v] : r.headers)
      headers.push_back({k, v ? std::optional<std::string_view>(*v) : std::nullopt});
    builders.at(p).add(timestamp, r.key, r.value, headers);
    batches[open[p]].records.push_back(i);
    open_bytes[p] += size;
  }
  while (!open.empty()) close(open.begin()->first);
  return batches;
}

std::variant<std::vector<int32_t>, HttpResponse> choose_partitions(
    Context& ctx, const std::vector<ProduceRecord>& records, int32_t partitions) {
  const int32_t unkeyed = static_cast<int32_t>(ctx.unkeyed_round_robin.fetch_add(1) %
                                               static_cast<uint32_t>(partitions));
  std::vector<int32_t> out;
  out.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.partition && *r.partition >= partitions)
      return json_error(404, "unknown_partition",
                        "record " + std::to_string(i) + ": the topic has " +
                            std::to_string(partitions) + " partitions");
    out.push_back(r.partition ? *r.partition
                  : r.key     ? kafka::partition_for_key(*r.key, partitions)
                              : unkeyed);
  }
  return out;
}

// Appends every batch (concurrently, through each partition's leader) and
// calls done with the results in the batches' order.
void append_all(group::ShareIo& io, const std::string& topic, std::vector<Batch> batches,
                std::function<void(std::vector<group::ShareAppend>)> done) {
  struct Pending {
    std::vector<group::ShareAppend> results;
    size_t outstanding = 0;
    std::function<void(std::vector<group::ShareAppend>)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->results.resize(batches.size());
  pending->outstanding = batches.size();
  pending->done = std::move(done);
  for (size_t i = 0; i < batches.size(); ++i) {
    io.append({topic, batches[i].partition}, std::move(batches[i].bytes),
              [pending, i](group::ShareAppend r) {
                pending->results[i] = r;
                if (--pending->outstanding == 0) pending->done(std::move(pending->results));
              });
  }
}

std::string offsets_json(const std::vector<Batch>& batches,
                         const std::vector<group::ShareAppend>& results, size_t record_count,
                         const std::vector<int32_t>& partition_of) {
  std::vector<std::string> entries(record_count);
  for (size_t b = 0; b < batches.size(); ++b) {
    const auto& r = results[b];
    for (size_t k = 0; k < batches[b].records.size(); ++k) {
      const size_t i = batches[b].records[k];
      std::string e = "{\"partition\":" + std::to_string(partition_of[i]);
      if (r.error == ErrorCode::kNone) {
        e += ",\"offset\":" + std::to_string(r.base_offset + static_cast<int64_t>(k)) + "}";
      } else {
        e += ",\"offset\":null,\"error_code\":" + std::to_string(kafka::to_wire(r.error)) +
             ",\"error\":" + json_string(snake_case(kafka::error_name(r.error))) + "}";
      }
      entries[i] = std::move(e);
    }
  }
  std::string j = "{\"offsets\":[";
  for (size_t i = 0; i < entries.size(); ++i) j += (i ? "," : "") + entries[i];
  return j + "]}";
}

HttpResponse handle_produce(Context& ctx, const httplib::Request& req) {
  const std::string topic = req.matches[1];
  auto image = ctx.view.current();
  auto count = partition_count(image, topic);
  if (auto* err = std::get_if<HttpResponse>(&count)) return *err;
  if (!ctx.io) {
    if (auto answer = relay(ctx, req, image, topic, -1, 0)) return *answer;
  }
  auto parsed = parse_produce_records(req.body);
  if (auto* err = std::get_if<ProduceParseError>(&parsed))
    return json_error(400, "invalid_request", err->message);
  const auto& records = std::get<std::vector<ProduceRecord>>(parsed);
  auto chosen = choose_partitions(ctx, records, std::get<int32_t>(count));
  if (auto* err = std::get_if<HttpResponse>(&chosen)) return *err;
  const auto& partition_of = std::get<std::vector<int32_t>>(chosen);
  auto batches = make_batches(records, partition_of);
  std::vector<Batch> shapes;  // the batches without their bytes, to map offsets back
  for (const auto& b : batches) shapes.push_back(Batch{b.partition, b.records, {}});
  auto* io = ctx.io;
  auto results = ctx.loop.call_async<std::vector<group::ShareAppend>>(
      [io, topic, batches = std::move(batches)](auto done) mutable {
        append_all(*io, topic, std::move(batches), std::move(done));
      },
      kLoopSlack);
  if (!results) return json_error(503, "request_timed_out", "not acknowledged in time; retry");
  size_t failed = 0;
  for (const auto& r : *results) failed += r.error != ErrorCode::kNone;
  // Confluent's shape: per-record errors in a 200 when only some batches
  // failed, so a client never retries records that were acknowledged.
  if (failed == results->size())
    return kafka_error(results->front().error, "the records were not appended to '" + topic + "'");
  return HttpResponse{200, offsets_json(shapes, *results, records.size(), partition_of)};
}

// ---- consume ---------------------------------------------------------------------------

struct ConsumeParams {
  int64_t offset = -2;  // -2 earliest, -1 latest, else the offset
  uint32_t max_bytes = kDefaultMaxBytes;
  size_t max_records = kDefaultMaxRecords;
  int64_t timeout_ms = 0;
};

std::optional<int64_t> int_param(const httplib::Request& req, const char* name, int64_t lo,
                                 int64_t hi, int64_t fallback, bool* bad) {
  auto v = int_query_param(req, name, lo, hi, fallback);
  if (!v) *bad = true;
  return v;
}

std::variant<ConsumeParams, HttpResponse> parse_consume(const httplib::Request& req) {
  ConsumeParams p;
  bool bad = false;
  const std::string offset = req.has_param("offset") ? req.get_param_value("offset") : "earliest";
  if (offset == "earliest") {
    p.offset = -2;
  } else if (offset == "latest") {
    p.offset = -1;
  } else if (auto v = int_param(req, "offset", 0, INT64_MAX, 0, &bad)) {
    p.offset = *v;
  }
  if (bad)
    return json_error(400, "invalid_request", "offset must be a number >= 0, earliest or latest");
  p.max_bytes = static_cast<uint32_t>(
      int_param(req, "max_bytes", 1, kMaxMaxBytes, kDefaultMaxBytes, &bad).value_or(0));
  p.max_records = static_cast<size_t>(
      int_param(req, "max_records", 1, 100000, kDefaultMaxRecords, &bad).value_or(0));
  p.timeout_ms = int_param(req, "timeout_ms", 0, kMaxTimeoutMs, 0, &bad).value_or(0);
  if (bad)
    return json_error(400, "invalid_request",
                      "max_bytes must be 1-8388608, max_records 1-100000, timeout_ms 0-30000");
  return p;
}

struct ReadResult {
  group::ShareRead read;
  int64_t offset = 0;  // the offset read from (earliest/latest resolved)
};

// On the loop: resolves earliest/latest, reads, and when there is nothing
// yet and the request may wait, parks until the partition moves.
void read_partition(broker::Backend& backend, const group::TopicPartition& tp,
                    const ConsumeParams& p, std::function<void(ReadResult)> done) {
  int64_t offset = p.offset;
  if (offset < 0) {
    auto lookup = backend.list_offset(tp.topic, broker::PartitionId(tp.partition), offset);
    if (lookup.error != ErrorCode::kNone) return done({{lookup.error, -1, -1, {}}, offset});
    offset = lookup.offset.value;
  }
  auto read = group::share_read_local(backend, tp, offset, p.max_bytes);
  if (read.error != ErrorCode::kNone || !read.batches.empty() || p.timeout_ms == 0)
    return done({std::move(read), offset});
  broker::TopicPartition key{tp.topic, broker::PartitionId(tp.partition)};
  backend.park({key}, std::chrono::milliseconds(p.timeout_ms), broker::kConsumerReplicaId,
               [&backend, tp, offset, max_bytes = p.max_bytes, done = std::move(done)] {
                 done({group::share_read_local(backend, tp, offset, max_bytes), offset});
               });
}

std::string records_json(const std::string& topic, int32_t partition, const ReadResult& r,
                         size_t max_records) {
  std::string j = "{\"topic\":" + json_string(topic) +
                  ",\"partition\":" + std::to_string(partition) + ",\"records\":[";
  size_t n = 0;
  auto walk = kafka::walk_records(r.read.batches, r.offset, [&](const kafka::RecordInLog& rec) {
    if (n) j += ",";
    append_log_record(j, "", rec.offset, rec.timestamp_ms, rec.record);
    return ++n < max_records;
  });
  const int64_t next = walk.next_offset >= 0 ? walk.next_offset : r.offset;
  return j + "],\"next_offset\":" + std::to_string(next) +
         ",\"high_watermark\":" + std::to_string(r.read.high_watermark) +
         ",\"log_start_offset\":" + std::to_string(r.read.log_start_offset) + "}";
}

// The partition a /v1/topics/{t}/partitions/{p}/... route names, served
// here; or the answer instead: 404 when unknown, the leader's answer when
// another node leads it (relayed once, `wait_ms` being how long it may wait).
std::variant<int32_t, HttpResponse> leader_partition(const Context& ctx,
                                                     const httplib::Request& req, int64_t wait_ms) {
  const std::string topic = req.matches[1];
  int32_t partition = -1;
  try {
    partition = std::stoi(req.matches[2]);
  } catch (const std::exception&) {
  }
  auto image = ctx.view.current();
  auto count = partition_count(image, topic);
  if (auto* err = std::get_if<HttpResponse>(&count)) return *err;
  if (partition < 0 || partition >= std::get<int32_t>(count))
    return json_error(
        404, "unknown_partition",
        "'" + topic + "' has " + std::to_string(std::get<int32_t>(count)) + " partitions");
  if (!ctx.backend || !req.has_header(kForwardedHeader)) {
    if (auto answer = relay(ctx, req, image, topic, partition, wait_ms)) return *answer;
  }
  return partition;
}

HttpResponse handle_consume(Context& ctx, const httplib::Request& req) {
  const std::string topic = req.matches[1];
  auto params = parse_consume(req);
  if (auto* err = std::get_if<HttpResponse>(&params)) return *err;
  const auto& p = std::get<ConsumeParams>(params);
  auto target = leader_partition(ctx, req, p.timeout_ms);
  if (auto* err = std::get_if<HttpResponse>(&target)) return *err;
  const int32_t partition = std::get<int32_t>(target);
  auto* backend = ctx.backend;
  group::TopicPartition tp{topic, partition};
  auto result = ctx.loop.call_async<ReadResult>(
      [backend, tp, p](auto done) { read_partition(*backend, tp, p, std::move(done)); },
      std::chrono::milliseconds(p.timeout_ms) + kLoopSlack);
  if (!result) return json_error(503, "request_timed_out", "the read did not finish in time");
  if (result->read.error == ErrorCode::kOffsetOutOfRange)
    return json_error(416, "offset_out_of_range",
                      "offset " + std::to_string(result->offset) + " is outside the log [" +
                          std::to_string(result->read.log_start_offset) + ", " +
                          std::to_string(result->read.high_watermark) + "]");
  if (result->read.error != ErrorCode::kNone)
    return kafka_error(result->read.error, "partition " + std::to_string(partition) + " of '" +
                                               topic + "' cannot be read here");
  return HttpResponse{200, records_json(topic, partition, *result, p.max_records)};
}

// ---- delete records ---------------------------------------------------------------

// DeleteRecords (KIP-107) on the partition's leader: {"before_offset":N}
// raises the log start offset to N (-1: the high watermark).
HttpResponse handle_delete_records(Context& ctx, const httplib::Request& req) {
  rapidjson::Document doc;
  if (auto err = net::parse_json_object(req.body, &doc)) return *err;
  auto field = doc.FindMember("before_offset");
  if (field == doc.MemberEnd() || !field->value.IsInt64() || field->value.GetInt64() < -1)
    return json_error(400, "invalid_request",
                      "before_offset must be an offset >= 0, or -1 for the high watermark");
  const int64_t before = field->value.GetInt64();
  auto target = leader_partition(ctx, req, 0);
  if (auto* err = std::get_if<HttpResponse>(&target)) return *err;
  const int32_t partition = std::get<int32_t>(target);
  const std::string topic = req.matches[1];
  auto* backend = ctx.backend;
  auto result = ctx.loop.call(
      [backend, topic, partition, before] {
        return backend->delete_records(topic, broker::PartitionId(partition), before);
      },
      kLoopSlack);
  if (!result) return json_error(503, "request_timed_out", "the deletion did not finish in time");
  if (result->error == ErrorCode::kOffsetOutOfRange)
    return json_error(
        416, "offset_out_of_range",
        "before_offset " + std::to_string(before) + " is past the partition's high watermark");
  if (result->error != ErrorCode::kNone)
    return kafka_error(result->error, "records of partition " + std::to_string(partition) +
                                          " of '" + topic + "' cannot be deleted here");
  return HttpResponse{200, "{\"topic\":" + json_string(topic) +
                               ",\"partition\":" + std::to_string(partition) +
                               ",\"low_watermark\":" + std::to_string(result->offset.value) + "}"};
}

}  // namespace

void register_record_routes(net::HttpServer& http, net::EventLoop& loop, group::ShareIo* io,
                            broker::Backend* backend, const broker::MetadataView& view,
                            int32_t self_id) {
  auto ctx = std::make_shared<Context>(loop, io, backend, view, self_id);
  http.post(R"(/v1/topics/([^/]+)/records)",
            [ctx](const httplib::Request& req) { return handle_produce(*ctx, req); });
  http.get(R"(/v1/topics/([^/]+)/partitions/([0-9]{1,9})/records)",
           [ctx](const httplib::Request& req) { return handle_consume(*ctx, req); });
  http.post(R"(/v1/topics/([^/]+)/partitions/([0-9]{1,9})/delete-records)",
            [ctx](const httplib::Request& req) { return handle_delete_records(*ctx, req); });
}

}  // namespace dmq::rest
