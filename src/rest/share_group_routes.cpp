#include "rest/share_group_routes.h"

#include <httplib.h>
#include <rapidjson/document.h>

#include <future>
#include <sstream>
#include <thread>
#include <variant>

#include "group/records.h"
#include "group/share_records.h"
#include "net/json_body.h"
#include "rest/forward.h"
#include "rest/record_json.h"
#include "rest/share_group_io.h"

namespace dmq::rest {
namespace {

using net::HttpResponse;
using net::json_error;

constexpr size_t kMaxRecordsPerFetch = 10000;
constexpr int64_t kMaxWaitMs = 30000;
constexpr size_t kMaxIdBytes = 255;
constexpr size_t kMaxErrorBytes = 4096;
// How long a handler waits for the loop beyond the request's own wait.
constexpr auto kLoopSlack = std::chrono::milliseconds(15000);

std::string record_json(const group::ShareRecordOut& r) {
  std::string j = "{\"topic\":" + json_string(r.tp.topic) +
                  ",\"partition\":" + std::to_string(r.tp.partition) +
                  ",\"offset\":" + std::to_string(r.offset) + ",";
  append_bytes_field(j, "key", r.key);
  j += ",";
  append_bytes_field(j, "value", r.value);
  j += ",";
  append_headers_field(j, r.headers);
  return j + ",\"delivery_count\":" + std::to_string(r.delivery_count) +
         ",\"timestamp\":" + std::to_string(r.timestamp_ms) + "}";
}

HttpResponse share_error(group::ShareError e, const std::string& message) {
  using group::ShareError;
  int status = 500;
  switch (e) {
    case ShareError::kNone:
      status = 200;
      break;
    case ShareError::kInvalidRequest:
      status = 400;
      break;
    case ShareError::kUnknownTopic:
    case ShareError::kUnknownGroup:
    case ShareError::kNotDelivered:
      status = 404;
      break;
    case ShareError::kNotInFlight:
    case ShareError::kWrongMember:
    case ShareError::kNonEmptyGroup:
      status = 409;
      break;
    case ShareError::kNotCoordinator:
    case ShareError::kLoadInProgress:
    case ShareError::kCoordinatorNotAvailable:
      status = 503;
      break;
  }
  return json_error(status, group::share_error_name(e), message);
}

// ---- request bodies ------------------------------------------------------------

using FetchParse = std::variant<group::ShareFetchRequest, HttpResponse>;

std::optional<HttpResponse> parse_member(const rapidjson::Document& doc, bool required,
                                         std::string* member) {
  if (!doc.HasMember("member_id") || doc["member_id"].IsNull()) {
    if (!required) return std::nullopt;
    return json_error(400, "member_id_required",
                      "\"member_id\" is required: the one the fetch answered with");
  }
  const auto& m = doc["member_id"];
  if (!m.IsString() || m.GetStringLength() > kMaxIdBytes || (required && m.GetStringLength() == 0))
    return json_error(400, "invalid_request", "\"member_id\" must be a string of 1-255 bytes");
  *member = m.GetString();
  return std::nullopt;
}

FetchParse parse_fetch(const std::string& group_id, const std::string& body) {
  rapidjson::Document doc;
  if (auto err = net::parse_json_object(body, &doc)) return *err;
  group::ShareFetchRequest r;
  r.group_id = group_id;
  if (!doc.HasMember("topics") || !doc["topics"].IsArray() || doc["topics"].Empty())
    return json_error(400, "invalid_request", "\"topics\" must be a non-empty array of names");
  for (const auto& t : doc["topics"].GetArray()) {
    if (!t.IsString() || t.GetStringLength() == 0)
      return json_error(400, "invalid_request", "\"topics\" must hold topic names");
    r.topics.push_back(t.GetString());
  }
  if (doc.HasMember("max_records")) {
    const auto& m = doc["max_records"];
    if (!m.IsInt64() || m.GetInt64() < 1 ||
        m.GetInt64() > static_cast<int64_t>(kMaxRecordsPerFetch))
      return json_error(400, "invalid_request", "\"max_records\" must be an integer in 1-10000");
    r.max_records = static_cast<size_t>(m.GetInt64());
  }
  if (doc.HasMember("wait_ms")) {
    const auto& w = doc["wait_ms"];
    if (!w.IsInt64() || w.GetInt64() < 0 || w.GetInt64() > kMaxWaitMs)
      return json_error(400, "invalid_request", "\"wait_ms\" must be an integer in 0-30000");
    r.wait_ms = w.GetInt64();
  }
  if (auto err = parse_member(doc, false, &r.member_id)) return *err;
  return r;
}

std::optional<HttpResponse> parse_one_ack(const rapidjson::Value& a, group::ShareAckEntry* out) {
  if (!a.IsObject() || !a.HasMember("topic") || !a["topic"].IsString() ||
      !a.HasMember("partition") || !a["partition"].IsInt() || !a.HasMember("offset") ||
      !a["offset"].IsInt64() || !a.HasMember("type") || !a["type"].IsString())
    return json_error(400, "invalid_request",
                      "each ack needs \"topic\" (string), \"partition\" and \"offset\" (integers) "
                      "and \"type\"");
  out->tp = {a["topic"].GetString(), a["partition"].GetInt()};
  out->offset = a["offset"].GetInt64();
  std::string type = a["type"].GetString();
  if (type == "accept") {
    out->type = group::AckType::kAccept;
  } else if (type == "release") {
    out->type = group::AckType::kRelease;
  } else if (type == "reject") {
    out->type = group::AckType::kReject;
  } else {
    return json_error(400, "invalid_request",
                      "ack \"type\" must be accept, release or reject, not '" + type + "'");
  }
  if (a.HasMember("error") && !a["error"].IsNull()) {
    if (!a["error"].IsString())
      return json_error(400, "invalid_request", "ack \"error\" must be a string");
    out->error = std::string(a["error"].GetString(), a["error"].GetStringLength());
    if (out->error.size() > kMaxErrorBytes) out->error.resize(kMaxErrorBytes);
  }
  return std::nullopt;
}

std::optional<HttpResponse> parse_ack(const std::string& body, std::string* member,
                                      std::vector<group::ShareAckEntry>* acks) {
  rapidjson::Document doc;
  if (auto err = net::parse_json_object(body, &doc)) return err;
  if (auto err = parse_member(doc, true, member)) return err;
  if (!doc.HasMember("acks") || !doc["acks"].IsArray() || doc["acks"].Empty())
    return json_error(400, "invalid_request", "\"acks\" must be a non-empty array");
  for (const auto& a : doc["acks"].GetArray()) {
    group::ShareAckEntry e;
    if (auto err = parse_one_ack(a, &e)) return err;
    acks->push_back(std::move(e));
  }
  return std::nullopt;
}

// ---- reaching the coordinator ---------------------------------------------------------

struct Coordinator {
  int32_t leader = -1;
  std::string host;
  uint16_t port = 0;
};

// The group's coordinator from this node's metadata; creates
// __share_group_state on first use and waits (bounded) for its leader.
std::variant<Coordinator, HttpResponse> locate(const std::string& group_id, net::EventLoop& loop,
                                               group::ShareCoordinator* shares,
                                               const broker::MetadataView& view) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto image = view.current();
    auto t = image->topics.find(group::kShareStateTopic);
    if (t != image->topics.end() && !t->second.partitions.empty()) {
      int32_t p = group::partition_for(group_id, static_cast<int32_t>(t->second.partitions.size()));
      auto leader = t->second.partitions[static_cast<size_t>(p)].leader;
      auto b = image->brokers.find(leader);
      if (b != image->brokers.end() && !b->second.fenced)
        return Coordinator{leader.value, b->second.http_host, b->second.http_port};
    } else if (shares) {
      loop.post([shares] { shares->ensure_state_topic(); });
    }
    if (std::chrono::steady_clock::now() > deadline)
      return json_error(503, "coordinator_not_available",
                        "the share group's partition of __share_group_state has no leader yet");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

struct Context {
  net::EventLoop& loop;
  group::ShareCoordinator* shares;
  broker::Backend* backend;
  const broker::MetadataView& view;
  int32_t self_id;
};

// A coordinator that just took over (or just created the topic) loads the
// state partition first: wait for it, bounded, rather than answer 503 at once.
std::optional<HttpResponse> wait_loaded(const Context& ctx, const std::string& group_id) {
  auto* shares = ctx.shares;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto status =
        ctx.loop.call([shares, group_id] { return shares->status_of(group_id); }, kLoopSlack);
    if (!status) return json_error(503, "busy", "the event loop did not answer in time");
    if (*status != group::ShareError::kLoadInProgress ||
        std::chrono::steady_clock::now() > deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// nullopt: serve here; otherwise the answer (forwarded, or an error).
std::optional<HttpResponse> route(const Context& ctx, const httplib::Request& req,
                                  const std::string& group_id, int64_t wait_ms) {
  if (group_id.empty() || group_id.size() > kMaxIdBytes)
    return json_error(400, "invalid_request", "the group id must have 1-255 bytes");
  if (ctx.shares && req.has_header(kShareForwardedHeader)) return wait_loaded(ctx, group_id);
  auto where = locate(group_id, ctx.loop, ctx.shares, ctx.view);
  if (auto* err = std::get_if<HttpResponse>(&where)) return *err;
  const auto& c = std::get<Coordinator>(where);
  if (ctx.shares && c.leader == ctx.self_id) return wait_loaded(ctx, group_id);
  if (req.has_header(kShareForwardedHeader))
    return json_error(503, "not_coordinator", "this node does not coordinate the group");
  return forward_request(req, c.host, c.port, wait_ms, kShareForwardedHeader, c.leader);
}

HttpResponse handle_fetch(const Context& ctx, const httplib::Request& req) {
  auto parsed = parse_fetch(req.matches[1], req.body);
  if (auto* err = std::get_if<HttpResponse>(&parsed)) return *err;
  auto request = std::get<group::ShareFetchRequest>(std::move(parsed));
  if (auto answer = route(ctx, req, request.group_id, request.wait_ms)) return *answer;
  auto* shares = ctx.shares;
  const auto timeout = std::chrono::milliseconds(request.wait_ms) + kLoopSlack;
  auto result = ctx.loop.call_async<group::ShareFetchResult>(
      [shares, request = std::move(request)](auto done) mutable {
        shares->fetch(std::move(request), std::move(done));
      },
      timeout);
  if (!result) return json_error(503, "busy", "the coordinator did not answer in time");
  if (result->error != group::ShareError::kNone) return share_error(result->error, result->message);
  std::string j = "{\"member_id\":" + json_string(result->member_id) + ",\"records\":[";
  for (size_t i = 0; i < result->records.size(); ++i)
    j += (i ? "," : "") + record_json(result->records[i]);
  return HttpResponse{200, j + "]}"};
}

HttpResponse handle_ack(const Context& ctx, const httplib::Request& req) {
  std::string group_id = req.matches[1];
  std::string member;
  std::vector<group::ShareAckEntry> acks;
  if (auto err = parse_ack(req.body, &member, &acks)) return *err;
  if (auto answer = route(ctx, req, group_id, 0)) return *answer;
  auto* shares = ctx.shares;
  auto result = ctx.loop.call_async<group::ShareAckResult>(
      [shares, group_id, member, acks = std::move(acks)](auto done) mutable {
        shares->acknowledge(group_id, member, std::move(acks), std::move(done));
      },
      kLoopSlack);
  if (!result) return json_error(503, "busy", "the coordinator did not answer in time");
  if (result->error != group::ShareError::kNone) return share_error(result->error, result->message);
  return HttpResponse{200, "{\"acknowledged\":" + std::to_string(result->acknowledged) + "}"};
}

std::string detail_json(const group::ShareGroupDetail& d) {
  std::string j = "{\"group_id\":" + json_string(d.group_id) +
                  ",\"coordinator\":" + std::to_string(d.coordinator) +
                  ",\"state_partition\":" + std::to_string(d.state_partition) + ",\"members\":[";
  for (size_t i = 0; i < d.members.size(); ++i) {
    const auto& m = d.members[i];
    j += (i ? "," : "") + std::string("{\"member_id\":") + json_string(m.member_id) +
         ",\"idle_ms\":" + std::to_string(m.idle_ms) + ",\"locks\":" + std::to_string(m.locks) +
         "}";
  }
  j += "],\"partitions\":[";
  for (size_t i = 0; i < d.partitions.size(); ++i) {
    const auto& p = d.partitions[i];
    j += (i ? "," : "") + std::string("{\"topic\":") + json_string(p.tp.topic) +
         ",\"partition\":" + std::to_string(p.tp.partition) +
         ",\"start_offset\":" + std::to_string(p.start_offset) +
         ",\"next_offset\":" + std::to_string(p.next_offset) +
         ",\"in_flight\":" + std::to_string(p.in_flight) +
         ",\"available\":" + std::to_string(p.available) +
         ",\"dead_letter_pending\":" + std::to_string(p.dead_letter_pending) +
         ",\"dead_lettered\":" + std::to_string(p.dead_lettered) + "}";
  }
  return j + "]}";
}

HttpResponse handle_describe(const Context& ctx, const httplib::Request& req) {
  std::string group_id = req.matches[1];
  if (auto answer = route(ctx, req, group_id, 0)) return *answer;
  auto* shares = ctx.shares;
  auto answer = ctx.loop.call(
      [shares, group_id] {
        return std::make_pair(shares->status_of(group_id), shares->describe(group_id));
      },
      kLoopSlack);
  if (!answer) return json_error(503, "busy", "the event loop did not answer in time");
  if (answer->first != group::ShareError::kNone)
    return share_error(answer->first, group::share_error_name(answer->first));
  if (!answer->second)
    return json_error(404, "unknown_group", "no share group named '" + group_id + "'");
  return HttpResponse{200, detail_json(*answer->second)};
}

HttpResponse handle_delete(const Context& ctx, const httplib::Request& req) {
  std::string group_id = req.matches[1];
  if (auto answer = route(ctx, req, group_id, 0)) return *answer;
  auto* shares = ctx.shares;
  using Answer = std::pair<group::ShareError, std::string>;
  auto answer = ctx.loop.call_async<Answer>(
      [shares, group_id](auto done) {
        shares->delete_group(group_id, [done](group::ShareError e, std::string message) {
          done({e, std::move(message)});
        });
      },
      kLoopSlack);
  if (!answer) return json_error(503, "busy", "the coordinator did not answer in time");
  if (answer->first != group::ShareError::kNone) return share_error(answer->first, answer->second);
  return HttpResponse{200, "{\"group_id\":" + json_string(group_id) + ",\"deleted\":true}"};
}

// ---- internal: partitions this node leads ---------------------------------------------

std::optional<group::TopicPartition> tp_param(const httplib::Request& req) {
  if (!req.has_param("topic") || !req.has_param("partition")) return std::nullopt;
  try {
    return group::TopicPartition{req.get_param_value("topic"),
                                 std::stoi(req.get_param_value("partition"))};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

HttpResponse handle_internal_read(const Context& ctx, const httplib::Request& req) {
  auto tp = tp_param(req);
  int64_t offset = 0;
  uint32_t max_bytes = 0;
  try {
    offset = std::stoll(req.get_param_value("offset"));
    max_bytes = static_cast<uint32_t>(std::stoul(req.get_param_value("max_bytes")));
  } catch (const std::exception&) {
    tp.reset();
  }
  if (!tp) return json_error(400, "invalid_request", "topic, partition, offset, max_bytes");
  auto* backend = ctx.backend;
  auto r = ctx.loop.call(
      [backend, tp = *tp, offset, max_bytes] {
        return group::share_read_local(*backend, tp, offset, std::min(max_bytes, 1u << 20));
      },
      kLoopSlack);
  if (!r) return json_error(503, "busy", "the event loop did not answer in time");
  HttpResponse out{200, std::move(r->batches), "application/octet-stream"};
  out.headers = {{"X-DMQ-Error", std::to_string(static_cast<int>(r->error))},
                 {"X-DMQ-Log-Start", std::to_string(r->log_start_offset)},
                 {"X-DMQ-High-Watermark", std::to_string(r->high_watermark)}};
  return out;
}

HttpResponse handle_internal_append(const Context& ctx, const httplib::Request& req) {
  auto tp = tp_param(req);
  if (!tp || req.body.empty()) return json_error(400, "invalid_request", "topic, partition, batch");
  auto* backend = ctx.backend;
  auto r = ctx.loop.call_async<group::ShareAppend>(
      [backend, tp = *tp, batch = req.body](auto done) {
        group::share_append_local(*backend, tp, batch, std::move(done));
      },
      kLoopSlack);
  if (!r) return json_error(503, "busy", "the append was not acknowledged in time");
  return HttpResponse{200, "{\"error\":" + std::to_string(static_cast<int>(r->error)) +
                               ",\"base_offset\":" + std::to_string(r->base_offset) + "}"};
}

// Body: one "partition offset topic" line per partition. Answers (204) once
// the high watermark of one of them passes its offset, one is not led here,
// or wait_ms (at most 5000) has passed.
HttpResponse handle_internal_watch(const Context& ctx, const httplib::Request& req) {
  std::vector<std::pair<broker::TopicPartition, int64_t>> from;
  int64_t wait_ms = -1;
  try {
    wait_ms = std::stoll(req.get_param_value("wait_ms"));
    std::istringstream lines(req.body);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream fields(line);
      int32_t partition = -1;
      int64_t offset = -1;
      std::string topic;
      if (!(fields >> partition >> offset) || !std::getline(fields >> std::ws, topic) ||
          topic.empty())
        throw std::invalid_argument(line);
      from.push_back({{topic, broker::PartitionId(partition)}, offset});
    }
  } catch (const std::exception&) {
    wait_ms = -1;
  }
  if (wait_ms < 0 || wait_ms > 5000 || from.empty() || from.size() > 10000)
    return json_error(400, "invalid_request",
                      "wait_ms (0-5000) and a body of \"partition offset topic\" lines");
  auto* backend = ctx.backend;
  auto woke = ctx.loop.call_async<bool>(
      [backend, from, wait_ms](auto done) {
        std::vector<broker::TopicPartition> tps;
        for (const auto& [tp, offset] : from) {
          auto offsets = backend->replica_offsets(tp.topic, tp.partition);
          if (!offsets || offsets->second.value > offset) return done(true);
          tps.push_back(tp);
        }
        backend->park(tps, std::chrono::milliseconds(wait_ms), broker::kConsumerReplicaId,
                      [done] { done(true); });
      },
      std::chrono::milliseconds(wait_ms) + kLoopSlack);
  if (!woke) return json_error(503, "busy", "the event loop did not answer in time");
  return HttpResponse{204, ""};
}

}  // namespace

void register_share_group_routes(net::HttpServer& http, net::EventLoop& loop,
                                 group::ShareCoordinator* shares, broker::Backend* backend,
                                 const broker::MetadataView& view, int32_t self_id) {
  auto ctx = std::make_shared<Context>(Context{loop, shares, backend, view, self_id});
  http.post(R"(/v1/share-groups/([^/]+)/fetch)",
            [ctx](const httplib::Request& req) { return handle_fetch(*ctx, req); });
  http.post(R"(/v1/share-groups/([^/]+)/ack)",
            [ctx](const httplib::Request& req) { return handle_ack(*ctx, req); });
  http.get(R"(/v1/share-groups/([^/]+))",
           [ctx](const httplib::Request& req) { return handle_describe(*ctx, req); });
  http.del(R"(/v1/share-groups/([^/]+))",
           [ctx](const httplib::Request& req) { return handle_delete(*ctx, req); });
  if (!backend) return;
  http.post("/internal/share/read",
            [ctx](const httplib::Request& req) { return handle_internal_read(*ctx, req); });
  http.post("/internal/share/append",
            [ctx](const httplib::Request& req) { return handle_internal_append(*ctx, req); });
  http.post("/internal/share/watch",
            [ctx](const httplib::Request& req) { return handle_internal_watch(*ctx, req); });
}

}  // namespace dmq::rest
