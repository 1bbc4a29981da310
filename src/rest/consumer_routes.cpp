#include "rest/consumer_routes.h"

#include <httplib.h>
#include <rapidjson/document.h>

#include <chrono>
#include <regex>
#include <thread>
#include <variant>

#include "group/records.h"
#include "net/json_body.h"
#include "rest/consumer_instances.h"
#include "rest/forward.h"
#include "rest/query_params.h"
#include "rest/record_json.h"

namespace dmq::rest {
namespace {

using net::HttpResponse;
using net::json_error;

constexpr const char* kForwardedHeader = "X-DMQ-Consumer-Forwarded";
constexpr auto kLoopSlack = std::chrono::milliseconds(10000);
constexpr int64_t kDefaultPollTimeoutMs = 1000;
constexpr int64_t kMaxPollTimeoutMs = 30000;
constexpr uint32_t kDefaultMaxBytes = 1u << 20;
constexpr uint32_t kMaxMaxBytes = 8u << 20;
constexpr size_t kMaxIdBytes = 255;
constexpr auto kPollRetry = std::chrono::milliseconds(20);

struct Context {
  net::EventLoop& loop;
  group::Coordinator* groups;
  const broker::MetadataView& view;
  int32_t self_id;
  std::shared_ptr<ConsumerInstances> instances;  // null on a controller-only node
};

using Key = std::pair<std::string, std::string>;

bool valid_name(const std::string& s) {
  static const std::regex name(R"([A-Za-z0-9._-]{1,200})");
  return std::regex_match(s, name);
}

// ---- creation: on the group's coordinator ---------------------------------------------------

struct Where {
  int32_t leader = -1;
  std::string host;
  uint16_t port = 0;
};

// The group's coordinator (leader of its __consumer_offsets partition); asks
// for the topic on first use and waits, bounded, for a leader.
std::variant<Where, HttpResponse> locate(const Context& ctx, const std::string& group) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto image = ctx.view.current();
    auto t = image->topics.find(group::kOffsetsTopic);
    if (t != image->topics.end() && !t->second.partitions.empty()) {
      int32_t p = group::partition_for(group, static_cast<int32_t>(t->second.partitions.size()));
      auto leader = t->second.partitions[static_cast<size_t>(p)].leader;
      auto b = image->brokers.find(leader);
      if (b != image->brokers.end() && !b->second.fenced)
        return Where{leader.value, b->second.http_host, b->second.http_port};
    } else if (auto* groups = ctx.groups) {
      ctx.loop.post([groups] { groups->maybe_create_offsets_topic(); });
    }
    if (std::chrono::steady_clock::now() > deadline)
      return json_error(503, "coordinator_not_available",
                        "the group's partition of __consumer_offsets has no leader yet; retry");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Waits (bounded) until this node has loaded the group's partition.
bool wait_loaded(const Context& ctx, const std::string& group) {
  auto* groups = ctx.groups;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto status = ctx.loop.call([groups, group] { return groups->status_of(group); }, kLoopSlack);
    if (status && status->empty()) return true;
    if (!status || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::variant<std::pair<std::string, ConsumerSettings>, HttpResponse> parse_create(
    const std::string& body) {
  ConsumerSettings settings;
  std::string name;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return std::make_pair(name, settings);
  rapidjson::Document doc;
  if (auto err = net::parse_json_object(body, &doc)) return *err;
  if (auto it = doc.FindMember("name"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsString() || !valid_name(it->value.GetString()))
      return json_error(400, "invalid_request",
                        "\"name\" must be 1-200 characters of A-Z a-z 0-9 . _ -");
    name = it->value.GetString();
  }
  if (auto it = doc.FindMember("auto.offset.reset"); it != doc.MemberEnd()) {
    const std::string v = it->value.IsString() ? it->value.GetString() : "";
    if (v != "earliest" && v != "latest")
      return json_error(400, "invalid_request", "\"auto.offset.reset\" must be earliest or latest");
    settings.from_earliest = v == "earliest";
  }
  if (auto it = doc.FindMember("auto.commit.enable"); it != doc.MemberEnd()) {
    const auto& v = it->value;
    const std::string s = v.IsString() ? v.GetString()
                          : v.IsBool() ? (v.GetBool() ? "true" : "false")
                                       : "";
    if (s != "true" && s != "false")
      return json_error(400, "invalid_request", "\"auto.commit.enable\" must be true or false");
    settings.auto_commit = s == "true";
  }
  return std::make_pair(name, settings);
}

HttpResponse handle_create(const Context& ctx, const httplib::Request& req) {
  const std::string group = req.matches[1];
  if (group.empty() || group.size() > kMaxIdBytes)
    return json_error(400, "invalid_request", "the group id must have 1-255 bytes");
  auto parsed = parse_create(req.body);
  if (auto* err = std::get_if<HttpResponse>(&parsed)) return *err;
  auto [name, settings] = std::get<0>(parsed);
  auto where = locate(ctx, group);
  if (auto* err = std::get_if<HttpResponse>(&where)) return *err;
  const auto& w = std::get<Where>(where);
  if (w.leader != ctx.self_id || !ctx.instances) {
    if (req.has_header(kForwardedHeader))
      return json_error(503, "coordinator_not_available",
                        "this node does not coordinate the group (it moved); retry");
    return forward_request(req, w.host, w.port, 0, kForwardedHeader, w.leader);
  }
  if (!wait_loaded(ctx, group))
    return json_error(503, "coordinator_load_in_progress", "the group is loading; retry");
  auto instances = ctx.instances;
  auto created = ctx.loop.call(
      [instances, group, name, settings] { return instances->create(group, name, settings); },
      kLoopSlack);
  if (!created) return json_error(503, "busy", "the event loop did not answer in time");
  if (auto* err = std::get_if<HttpResponse>(&*created)) return *err;
  const std::string& id = std::get<std::string>(*created);
  const std::string base = "http://" + w.host + ":" + std::to_string(w.port) + "/v1/consumers/" +
                           group + "/instances/" + id;
  return HttpResponse{
      200, "{\"instance_id\":" + json_string(id) + ",\"base_uri\":" + json_string(base) + "}"};
}

// ---- one instance ---------------------------------------------------------------------------

HttpResponse no_instance(const Key& key) {
  return json_error(
      404, "consumer_instance_not_found",
      "no consumer instance '" + key.second + "' in group '" + key.first + "' on this node");
}

// Runs `op(instances, done)` on the loop and waits for its answer.
template <class Op>
HttpResponse on_loop(const Context& ctx, const Key& key, Op op) {
  if (!ctx.instances) return no_instance(key);
  auto instances = ctx.instances;
  auto answer = ctx.loop.call_async<HttpResponse>(
      [instances, op](auto done) { op(*instances, std::move(done)); }, kLoopSlack);
  if (!answer) return json_error(503, "busy", "the event loop did not answer in time");
  return *answer;
}

HttpResponse handle_subscribe(const Context& ctx, const httplib::Request& req, const Key& key) {
  rapidjson::Document doc;
  if (auto err = net::parse_json_object(req.body, &doc)) return *err;
  auto it = doc.FindMember("topics");
  if (it == doc.MemberEnd() || !it->value.IsArray() || it->value.Empty())
    return json_error(400, "invalid_request", "\"topics\" must be a non-empty array of names");
  std::vector<std::string> topics;
  for (const auto& t : it->value.GetArray()) {
    if (!t.IsString() || !valid_name(t.GetString()) || t.GetString()[0] == '_')
      return json_error(400, "invalid_request",
                        "\"topics\" must hold names of topics (not internal ones)");
    topics.push_back(t.GetString());
  }
  return on_loop(ctx, key, [key, topics](ConsumerInstances& c, auto done) {
    auto err = c.subscribe(key.first, key.second, topics);
    done(err ? *err : HttpResponse{204, "", "text/plain"});
  });
}

HttpResponse handle_subscription(const Context& ctx, const Key& key) {
  return on_loop(ctx, key, [key](ConsumerInstances& c, auto done) {
    auto r = c.subscription(key.first, key.second);
    if (auto* err = std::get_if<HttpResponse>(&r)) return done(*err);
    std::string j = "{\"topics\":[";
    const auto& topics = std::get<std::vector<std::string>>(r);
    for (size_t i = 0; i < topics.size(); ++i) j += (i ? "," : "") + json_string(topics[i]);
    done(HttpResponse{200, j + "]}"});
  });
}

// Long poll: polls the instance until records come or `timeout` passes.
HttpResponse handle_records(const Context& ctx, const httplib::Request& req, const Key& key) {
  auto timeout = int_query_param(req, "timeout", 0, kMaxPollTimeoutMs, kDefaultPollTimeoutMs);
  auto max_bytes = int_query_param(req, "max_bytes", 1, kMaxMaxBytes, kDefaultMaxBytes);
  if (!timeout || !max_bytes)
    return json_error(400, "invalid_request", "timeout must be 0-30000 and max_bytes 1-8388608");
  if (!ctx.instances) return no_instance(key);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(*timeout);
  auto instances = ctx.instances;
  const auto bytes = static_cast<uint32_t>(*max_bytes);
  for (;;) {
    auto answer = ctx.loop.call_async<PollAnswer>(
        [instances, key, bytes](auto done) {
          instances->poll(key.first, key.second, bytes, std::move(done));
        },
        kLoopSlack);
    if (!answer) return json_error(503, "busy", "the event loop did not answer in time");
    if (answer->error) return *answer->error;
    if (answer->count > 0 || std::chrono::steady_clock::now() >= deadline)
      return HttpResponse{200, "{\"records\":[" + answer->records + "]}"};
    std::this_thread::sleep_for(kPollRetry);
  }
}

// {"offsets":[{"topic","partition","offset"}]} (or {"partitions":[{"topic","partition"}]}).
std::optional<HttpResponse> parse_partitions(const std::string& body, const char* field,
                                             bool with_offset, std::vector<ConsumedOffset>* out) {
  rapidjson::Document doc;
  if (auto err = net::parse_json_object(body, &doc)) return *err;
  auto it = doc.FindMember(field);
  if (it == doc.MemberEnd() || !it->value.IsArray())
    return json_error(400, "invalid_request", std::string("\"") + field + "\" must be an array");
  for (const auto& e : it->value.GetArray()) {
    const bool ok =
        e.IsObject() && e.HasMember("topic") && e["topic"].IsString() && e.HasMember("partition") &&
        e["partition"].IsInt() && e["partition"].GetInt() >= 0 &&
        (!with_offset ||
         (e.HasMember("offset") && e["offset"].IsInt64() && e["offset"].GetInt64() >= 0));
    if (!ok)
      return json_error(400, "invalid_request",
                        std::string("each of \"") + field + "\" needs \"topic\", \"partition\"" +
                            (with_offset ? " and \"offset\" (>= 0)" : ""));
    out->push_back({{e["topic"].GetString(), e["partition"].GetInt()},
                    with_offset ? e["offset"].GetInt64() : 0});
  }
  return std::nullopt;
}

bool empty_body(const std::string& body) {
  return body.find_first_not_of(" \t\r\n") == std::string::npos;
}

HttpResponse handle_commit(const Context& ctx, const httplib::Request& req, const Key& key) {
  std::optional<std::vector<ConsumedOffset>> offsets;
  if (!empty_body(req.body)) {
    offsets.emplace();
    if (auto err = parse_partitions(req.body, "offsets", true, &*offsets)) return *err;
  }
  return on_loop(ctx, key, [key, offsets](ConsumerInstances& c, auto done) {
    c.commit(key.first, key.second, offsets, std::move(done));
  });
}

HttpResponse handle_committed(const Context& ctx, const httplib::Request& req, const Key& key) {
  std::vector<ConsumedOffset> wanted;
  if (!empty_body(req.body)) {
    if (auto err = parse_partitions(req.body, "partitions", false, &wanted)) return *err;
  }
  std::vector<group::TopicPartition> partitions;
  for (const auto& w : wanted) partitions.push_back(w.tp);
  return on_loop(ctx, key, [key, partitions](ConsumerInstances& c, auto done) {
    c.committed(key.first, key.second, partitions, std::move(done));
  });
}

HttpResponse handle_remove(const Context& ctx, const Key& key, bool only_subscription) {
  return on_loop(ctx, key, [key, only_subscription](ConsumerInstances& c, auto done) {
    c.remove(key.first, key.second, only_subscription, std::move(done));
  });
}

Key key_of(const httplib::Request& req) {
  return Key{req.matches[1], req.matches[2]};
}

}  // namespace

void register_consumer_routes(net::HttpServer& http, net::EventLoop& loop,
                              group::Coordinator* groups, group::ShareIo* io,
                              const broker::MetadataView& view, const Options& options) {
  std::shared_ptr<ConsumerInstances> instances;
  if (groups && io) {
    instances = std::make_shared<ConsumerInstances>(loop.context(), *groups, *io, view,
                                                    options.rest_consumer_instance_timeout_ms);
    // Weak: the routes own the instances, which go with the HTTP server,
    // before the loop whose context their timer uses.
    std::weak_ptr<ConsumerInstances> weak = instances;
    loop.post([weak] {
      if (auto c = weak.lock()) c->start();
    });
    loop.on_shutdown([weak] {
      if (auto c = weak.lock()) c->stop();
    });
  }
  auto ctx = std::make_shared<Context>(Context{loop, groups, view, options.node_id, instances});
  const std::string base = R"(/v1/consumers/([^/]+)/instances/([^/]+))";
  http.post(R"(/v1/consumers/([^/]+))",
            [ctx](const httplib::Request& req) { return handle_create(*ctx, req); });
  http.post(base + "/subscription", [ctx](const httplib::Request& req) {
    return handle_subscribe(*ctx, req, key_of(req));
  });
  http.get(base + "/subscription",
           [ctx](const httplib::Request& req) { return handle_subscription(*ctx, key_of(req)); });
  http.del(base + "/subscription",
           [ctx](const httplib::Request& req) { return handle_remove(*ctx, key_of(req), true); });
  http.get(base + "/records",
           [ctx](const httplib::Request& req) { return handle_records(*ctx, req, key_of(req)); });
  http.post(base + "/offsets",
            [ctx](const httplib::Request& req) { return handle_commit(*ctx, req, key_of(req)); });
  http.get(base + "/offsets",
           [ctx](const httplib::Request& req) { return handle_committed(*ctx, req, key_of(req)); });
  http.del(base,
           [ctx](const httplib::Request& req) { return handle_remove(*ctx, key_of(req), false); });
}

}  // namespace dmq::rest
