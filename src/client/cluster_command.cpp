// `dmq cluster status`: brokers, the controller and unhealthy partitions from
// Kafka Metadata; with --http, the controllers' Raft view from GET /v1/cluster
// (the Kafka protocol has no view of the metadata quorum).
// `dmq cluster rebalance`: POST /v1/rebalance on --http, prints the moves.

#include <httplib.h>
#include <rapidjson/document.h>

#include <algorithm>

#include "client/commands.h"
#include "client/json_out.h"
#include "client/output.h"

namespace dmq::client {
namespace {

struct Unhealthy {
  std::string topic;
  int32_t partition = 0;
  int32_t leader = -1;
  size_t replicas = 0;
  size_t isr = 0;
};

std::vector<Unhealthy> unhealthy_partitions(const ClusterMap& map) {
  std::vector<Unhealthy> out;
  for (const auto& [name, t] : map.topics()) {
    for (const auto& p : t.partitions) {
      if (p.leader < 0 || p.under_replicated()) {
        out.push_back({name, p.index, p.leader, p.replicas.size(), p.isr.size()});
      }
    }
  }
  return out;
}

// The JSON error's message of a REST answer, or the status alone.
std::string rest_error_text(int status, const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("error") && doc["error"].IsObject() &&
      doc["error"].HasMember("message") && doc["error"]["message"].IsString()) {
    return std::to_string(status) + ": " + doc["error"]["message"].GetString();
  }
  return std::to_string(status);
}

// The body of a 200 answer to `method path` on the REST address, or throws.
std::string rest_call(const std::string& address, int timeout_ms, const std::string& method,
                      const std::string& path) {
  auto hp = parse_host_port(address);
  if (!hp) throw usage_error("--http '" + address + "' is not host:port");
  httplib::Client http(hp->host, hp->port);
  http.set_connection_timeout(0, timeout_ms * 1000);
  http.set_read_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  auto result = method == "POST" ? http.Post(path, "{}", "application/json") : http.Get(path);
  const std::string what = method + " http://" + address + path;
  if (!result) throw ClientError(what + " failed");
  if (result->status != 200) {
    throw ClientError(what + " answered " + rest_error_text(result->status, result->body));
  }
  return result->body;
}

std::string broker_list_text(const rapidjson::Value& ids) {
  std::string out;
  if (!ids.IsArray()) return out;
  for (const auto& id : ids.GetArray()) {
    if (!out.empty()) out += ",";
    out += id.IsInt() ? std::to_string(id.GetInt()) : "?";
  }
  return out;
}

int run_rebalance(const Invocation& inv) {
  // Planning and starting the moves is one controller proposal: allow it time.
  const std::string body =
      rest_call(inv.common.http, std::max(inv.common.timeout_ms, 40000), "POST", "/v1/rebalance");
  if (inv.common.json) {
    print(body + "\n");
    return 0;
  }
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("moves") ||
      !doc["moves"].IsArray()) {
    throw ClientError("POST /v1/rebalance: unreadable answer");
  }
  if (doc["moves"].Empty()) {
    print("already balanced: nothing to move\n");
    return 0;
  }
  Table table({"TOPIC", "PARTITION", "FROM", "TO"});
  for (const auto& m : doc["moves"].GetArray()) {
    if (!m.IsObject() || !m.HasMember("topic") || !m["topic"].IsString() ||
        !m.HasMember("partition") || !m["partition"].IsInt() || !m.HasMember("from") ||
        !m.HasMember("to")) {
      continue;
    }
    table.add({m["topic"].GetString(), std::to_string(m["partition"].GetInt()),
               broker_list_text(m["from"]), broker_list_text(m["to"])});
  }
  print(std::to_string(doc["moves"].Size()) +
        " partitions move (GET /v1/reassignments shows progress):\n" + table.render());
  return 0;
}

void print_json(const ClusterMap& map, const std::vector<Unhealthy>& bad, const std::string& raft) {
  JsonOut j;
  j.w().StartObject();
  j.key("cluster_id");
  j.string(map.cluster_id());
  j.key("controller_id");
  j.w().Int(map.controller_id());
  j.key("brokers");
  j.w().StartArray();
  for (const auto& [id, b] : map.brokers()) {
    j.w().StartObject();
    j.key("id");
    j.w().Int(id);
    j.key("host");
    j.string(b.address.host);
    j.key("port");
    j.w().Int(b.address.port);
    j.w().EndObject();
  }
  j.w().EndArray();
  j.key("unhealthy_partitions");
  j.w().StartArray();
  for (const auto& u : bad) {
    j.w().StartObject();
    j.key("topic");
    j.string(u.topic);
    j.key("partition");
    j.w().Int(u.partition);
    j.key("leader");
    j.w().Int(u.leader);
    j.key("replicas");
    j.w().Uint64(u.replicas);
    j.key("isr");
    j.w().Uint64(u.isr);
    j.w().EndObject();
  }
  j.w().EndArray();
  if (!raft.empty()) {
    j.key("raft");
    j.w().RawValue(raft.data(), raft.size(), rapidjson::kObjectType);
  }
  j.w().EndObject();
  print(j.str());
}

std::string raft_summary(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return "controllers: (unreadable answer)\n";
  auto field = [&doc](const char* name) -> std::string {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) return "?";
    if (it->value.IsString()) return it->value.GetString();
    if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
    if (it->value.IsUint64()) return std::to_string(it->value.GetUint64());
    return "?";
  };
  std::string out = "controller leader: " + field("leader_id") + "  term: " + field("term") +
                    "  commit index: " + field("commit_index") + "\n";
  auto voters = doc.FindMember("voters");
  if (voters != doc.MemberEnd() && voters->value.IsArray()) {
    out += "voters: " + std::to_string(voters->value.Size()) + "\n";
  }
  return out;
}

}  // namespace

int run_cluster(const Invocation& inv) {
  if (inv.cluster_action == "rebalance") return run_rebalance(inv);
  KafkaClient client(client_config(inv.common));
  const ClusterMap& map = client.refresh_metadata({});
  auto bad = unhealthy_partitions(map);
  std::string raft;
  if (!inv.common.http.empty()) {
    raft = rest_call(inv.common.http, inv.common.timeout_ms, "GET", "/v1/cluster");
  }
  if (inv.common.json) {
    print_json(map, bad, raft);
    return 0;
  }
  std::string out = "cluster " + map.cluster_id() + "\n";
  if (!raft.empty()) out += raft_summary(raft);
  out += "\n";
  Table brokers({"BROKER", "ADDRESS", "RACK", "CONTROLLER"});
  for (const auto& [id, b] : map.brokers()) {
    brokers.add({std::to_string(id), b.address.to_string(), b.rack.value_or("-"),
                 id == map.controller_id() ? "yes" : ""});
  }
  out += brokers.render() + "\n";
  if (bad.empty()) {
    out += "all partitions have a leader and a full ISR\n";
  } else {
    Table table({"TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR"});
    for (const auto& u : bad) {
      table.add({u.topic, std::to_string(u.partition), std::to_string(u.leader),
                 std::to_string(u.replicas), std::to_string(u.isr)});
    }
    out += "under-replicated or leaderless partitions:\n" + table.render();
  }
  print(out);
  return 0;
}

}  // namespace dmq::client
