#include "rest/group_routes.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>

#include "common/json_escape.h"
#include "group/records.h"
#include "net/cluster_http.h"
#include "rest/forward.h"

namespace dmq::rest {
namespace {

constexpr const char* kForwardedHeader = "X-DMQ-Group-Forwarded";
constexpr auto kLoopTimeout = std::chrono::milliseconds(2000);

std::string json_str(std::string_view s) {
  std::string out = "\"";
  append_json_escaped(out, s);
  out += "\"";
  return out;
}

std::string nullable(const std::optional<std::string>& s) {
  return s ? json_str(*s) : "null";
}
std::string nullable(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : "null";
}

struct BrokerHttp {
  int32_t id;
  std::string host;
  uint16_t port;
};

std::vector<BrokerHttp> live_brokers(const cluster::MetadataImage& image) {
  std::vector<BrokerHttp> out;
  for (const auto& [id, b] : image.brokers)
    if (!b.fenced) out.push_back({id.value, b.http_host, b.http_port});
  return out;
}

// Set once by register_group_routes, before the server starts; the helpers
// that ask other nodes are deep in the answer-building code.
net::RequestSigner& node_signer() {
  static net::RequestSigner signer;
  return signer;
}

std::optional<httplib::Result> http_get(const std::string& host, uint16_t port,
                                        const std::string& path) {
  net::PeerClient peer(host, port);
  httplib::Client& client = peer.http();
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(3, 0);
  httplib::Headers headers{{kForwardedHeader, "1"}};
  if (node_signer()) {
    for (auto& [name, value] : node_signer()("GET", path, "")) headers.emplace(name, value);
  }
  auto result = client.Get(path.c_str(), headers);
  if (!result || result->status != 200) return std::nullopt;
  return result;
}

// High watermarks of `topic` as its partition leaders report them
// (GET /v1/topics/{name} fills the partitions each node hosts).
std::map<int32_t, int64_t> remote_high_watermarks(const cluster::MetadataImage& image,
                                                  const std::string& topic) {
  std::map<int32_t, int64_t> out;
  auto t = image.topics.find(topic);
  if (t == image.topics.end()) return out;
  std::map<int32_t, std::vector<int32_t>> by_leader;
  for (const auto& p : t->second.partitions) by_leader[p.leader.value].push_back(p.id.value);
  for (const auto& [leader, parts] : by_leader) {
    auto b = image.brokers.find(cluster::BrokerId(leader));
    if (b == image.brokers.end()) continue;
    auto result = http_get(b->second.http_host, b->second.http_port, "/v1/topics/" + topic);
    if (!result) continue;
    rapidjson::Document doc;
    doc.Parse((*result)->body.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("partitions") ||
        !doc["partitions"].IsArray())
      continue;
    for (const auto& p : doc["partitions"].GetArray()) {
      if (!p.IsObject() || !p.HasMember("partition") || !p["partition"].IsInt()) continue;
      if (!p.HasMember("high_watermark") || !p["high_watermark"].IsInt64()) continue;
      int32_t id = p["partition"].GetInt();
      if (std::find(parts.begin(), parts.end(), id) != parts.end())
        out[id] = p["high_watermark"].GetInt64();
    }
  }
  return out;
}

void fill_remote_lag(const cluster::MetadataImage& image, group::GroupDetail& d) {
  std::map<std::string, std::map<int32_t, int64_t>> cache;
  for (auto& o : d.offsets) {
    if (o.high_watermark) continue;
    auto it = cache.find(o.tp.topic);
    if (it == cache.end())
      it = cache.emplace(o.tp.topic, remote_high_watermarks(image, o.tp.topic)).first;
    auto hw = it->second.find(o.tp.partition);
    if (hw == it->second.end()) continue;
    o.high_watermark = hw->second;
    o.lag = std::max<int64_t>(0, hw->second - o.committed.offset);
  }
}

std::string detail_json(const group::GroupDetail& d) {
  std::string j =
      "{\"group_id\":" + json_str(d.group_id) + ",\"state\":" + json_str(d.state) +
      ",\"protocol_type\":" + json_str(d.protocol_type) + ",\"protocol\":" + json_str(d.protocol) +
      ",\"generation_id\":" + std::to_string(d.generation_id) +
      ",\"leader\":" + json_str(d.leader) + ",\"coordinator\":" + std::to_string(d.coordinator) +
      ",\"offsets_partition\":" + std::to_string(d.offsets_partition) + ",\"members\":[";
  for (size_t i = 0; i < d.members.size(); ++i) {
    const auto& m = d.members[i].member;
    j += (i ? "," : "") + std::string("{\"member_id\":") + json_str(m.member_id) +
         ",\"group_instance_id\":" + nullable(m.group_instance_id) +
         ",\"client_id\":" + json_str(m.client_id) + ",\"client_host\":" + json_str(m.client_host) +
         ",\"session_timeout_ms\":" + std::to_string(m.session_timeout_ms) + ",\"assignment\":[";
    const auto& a = d.members[i].assigned;
    for (size_t k = 0; k < a.size(); ++k) {
      j += (k ? "," : "") + std::string("{\"topic\":") + json_str(a[k].topic) +
           ",\"partition\":" + std::to_string(a[k].partition) + "}";
    }
    j += "]}";
  }
  j += "],\"offsets\":[";
  int64_t total_lag = 0;
  bool lag_known = true;
  for (size_t i = 0; i < d.offsets.size(); ++i) {
    const auto& o = d.offsets[i];
    j += (i ? "," : "") + std::string("{\"topic\":") + json_str(o.tp.topic) +
         ",\"partition\":" + std::to_string(o.tp.partition) +
         ",\"committed_offset\":" + std::to_string(o.committed.offset) +
         ",\"metadata\":" + json_str(o.committed.metadata) +
         ",\"high_watermark\":" + nullable(o.high_watermark) + ",\"lag\":" + nullable(o.lag) + "}";
    if (o.lag) {
      total_lag += *o.lag;
    } else {
      lag_known = false;
    }
  }
  j += "],\"lag\":" + (lag_known ? std::to_string(total_lag) : std::string("null")) + "}";
  return j;
}

std::string listing_json(const std::vector<group::GroupListing>& groups, int32_t coordinator) {
  std::string j;
  for (size_t i = 0; i < groups.size(); ++i) {
    const auto& g = groups[i];
    j += (i ? "," : "") + std::string("{\"group_id\":") + json_str(g.group_id) +
         ",\"state\":" + json_str(g.state) + ",\"protocol_type\":" + json_str(g.protocol_type) +
         ",\"members\":" + std::to_string(g.members) +
         ",\"coordinator\":" + std::to_string(coordinator) + "}";
  }
  return j;
}

// This node's own groups, as the inside of a JSON array.
std::optional<std::string> local_listing(net::EventLoop& loop, group::Coordinator* coordinator,
                                         int32_t self_id, const ListFilter& filter) {
  if (!coordinator) return std::string();
  auto groups = loop.call([coordinator] { return coordinator->list_groups(); }, kLoopTimeout);
  if (!groups) return std::nullopt;
  if (filter) {
    std::erase_if(*groups, [&filter](const group::GroupListing& g) {
      return !filter(security::ResourceType::kGroup, g.group_id);
    });
  }
  return listing_json(*groups, self_id);
}

// The inside of a remote node's {"groups":[...]} array, each item as that
// node wrote it; only the groups `filter` shows when it is set.
std::string remote_items(const std::string& body, const rapidjson::Document& doc,
                         const ListFilter& filter) {
  if (!filter) {
    auto open = body.find('[');
    auto close = body.rfind(']');
    if (open == std::string::npos || close == std::string::npos || close <= open + 1) return "";
    return body.substr(open + 1, close - open - 1);
  }
  std::string out;
  const auto& groups = doc["groups"];
  if (!groups.IsArray()) return out;
  for (const auto& g : groups.GetArray()) {
    if (!g.IsObject() || !g.HasMember("group_id") || !g["group_id"].IsString()) continue;
    if (!filter(security::ResourceType::kGroup, g["group_id"].GetString())) continue;
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    g.Accept(writer);
    out += (out.empty() ? "" : ",") + std::string(buffer.GetString(), buffer.GetSize());
  }
  return out;
}

net::HttpResponse list_groups(const httplib::Request& req, net::EventLoop& loop,
                              group::Coordinator* coordinator, const broker::MetadataView& view,
                              int32_t self_id, const ListFilter& filter) {
  auto own = local_listing(loop, coordinator, self_id, filter);
  if (!own) return net::json_error(503, "busy", "the event loop did not answer in time");
  std::vector<std::string> parts;
  if (!own->empty()) parts.push_back(*own);
  if (req.get_param_value("local") != "1" && !req.has_header(kForwardedHeader)) {
    for (const auto& b : live_brokers(*view.current())) {
      if (b.id == self_id) continue;
      auto result = http_get(b.host, b.port, "/v1/groups?local=1");
      if (!result) continue;
      rapidjson::Document doc;
      doc.Parse((*result)->body.c_str());
      if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("groups")) continue;
      std::string items = remote_items((*result)->body, doc, filter);
      if (!items.empty()) parts.push_back(std::move(items));
    }
  }
  std::string j = "{\"groups\":[";
  for (size_t i = 0; i < parts.size(); ++i) j += (i ? "," : "") + parts[i];
  return net::HttpResponse{200, j + "]}"};
}

net::HttpResponse describe_group(const httplib::Request& req, const std::string& id,
                                 net::EventLoop& loop, group::Coordinator* coordinator,
                                 const broker::MetadataView& view, int32_t self_id) {
  auto image = view.current();
  auto topic = image->topics.find(group::kOffsetsTopic);
  if (topic == image->topics.end() || topic->second.partitions.empty()) {
    return net::json_error(404, "unknown_group", "no group named '" + id + "'");
  }
  int32_t p = group::partition_for(id, static_cast<int32_t>(topic->second.partitions.size()));
  int32_t leader = topic->second.partitions[static_cast<size_t>(p)].leader.value;
  if (coordinator && (leader == self_id || req.has_header(kForwardedHeader))) {
    auto answer = loop.call(
        [coordinator, id]() -> std::pair<std::string, std::optional<group::GroupDetail>> {
          return {coordinator->status_of(id), coordinator->describe(id)};
        },
        kLoopTimeout);
    if (!answer) return net::json_error(503, "busy", "the event loop did not answer in time");
    auto& [status, detail] = *answer;
    if (status == "loading")
      return net::json_error(503, "coordinator_load_in_progress", "the coordinator is loading");
    if (status == "not_coordinator")
      return net::json_error(503, "not_coordinator",
                             "this broker does not coordinate '" + id + "'");
    if (!detail) return net::json_error(404, "unknown_group", "no group named '" + id + "'");
    fill_remote_lag(*image, *detail);
    return net::HttpResponse{200, detail_json(*detail)};
  }
  auto b = image->brokers.find(cluster::BrokerId(leader));
  if (leader < 0 || b == image->brokers.end() || b->second.fenced) {
    return net::json_error(
        503, "coordinator_not_available",
        "partition " + std::to_string(p) + " of __consumer_offsets has no leader");
  }
  return forward_request(req, b->second.http_host, b->second.http_port, 0, kForwardedHeader,
                         leader);
}

}  // namespace

void register_group_routes(net::HttpServer& http, net::EventLoop& loop,
                           group::Coordinator* coordinator, const broker::MetadataView& view,
                           int32_t self_id, net::RequestSigner signer,
                           ListFilterFn listing_filter) {
  node_signer() = std::move(signer);
  http.get("/v1/groups",
           [&loop, coordinator, &view, self_id, listing_filter](const httplib::Request& req) {
             ListFilter filter = listing_filter ? listing_filter(req) : nullptr;
             return list_groups(req, loop, coordinator, view, self_id, filter);
           });
  http.get(R"(/v1/groups/([^/]+))",
           [&loop, coordinator, &view, self_id](const httplib::Request& req) {
             return describe_group(req, req.matches[1], loop, coordinator, view, self_id);
           });
}

}  // namespace dmq::rest
