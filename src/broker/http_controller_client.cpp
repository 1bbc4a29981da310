#include "broker/http_controller_client.h"
#include "net/cluster_http.h"

#include "common/url.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <chrono>
#include <cstdio>

namespace dmq::broker {
namespace {

constexpr std::chrono::seconds kReadYourWritesWait{2};

// Topic names are validated by the controller; encode whatever arrives so it
// reaches the controller intact and gets a clear error there (an empty name
// becomes a space, not an empty segment).
std::string path_segment(const std::string& name) {
  return name.empty() ? "%20" : encode_path_segment(name);
}

}  // namespace

HttpControllerClient::HttpControllerClient(net::EventLoop& loop, std::vector<Voter> controllers)
    : loop_(loop), controllers_(std::move(controllers)) {}

HttpControllerClient::~HttpControllerClient() {
  stop();
}

void HttpControllerClient::stop() {
  worker_.stop();
  replication_worker_.stop();
}

broker::AdminResult HttpControllerClient::exchange(
    const std::string& method, const std::string& path, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>* relayed) {
  broker::AdminResult out;
  // Try each controller once, starting where the last success was.
  for (size_t attempt = 0; attempt < controllers_.size(); ++attempt) {
    const auto& controller = controllers_[next_.load() % controllers_.size()];
    net::PeerClient client(controller.http.host, controller.http.port);
    client.http().set_connection_timeout(0, 500000);
    client.http().set_read_timeout(40, 0);
    // Signed per attempt: a signature is accepted once (replay protection).
    httplib::Headers headers;
    if (relayed) {
      headers.insert(relayed->begin(), relayed->end());
    } else if (signer_) {
      for (auto& [name, value] : signer_(method, path, body)) headers.emplace(name, value);
    }
    auto result = client.send(method, path, body, std::move(headers));
    if (!result) {
      next_++;
      continue;
    }
    out.http_status = result->status;
    out.body = result->body;
    out.applied_index = net::applied_index_of(*result).value_or(0);
    if (result->status >= 300) {
      rapidjson::Document doc;
      doc.Parse(result->body.c_str());
      if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("error") &&
          doc["error"].IsObject() && doc["error"]["code"].IsString()) {
        out.code = doc["error"]["code"].GetString();
        out.message = doc["error"]["message"].IsString() ? doc["error"]["message"].GetString() : "";
      } else {
        out.code = "http_" + std::to_string(result->status);
      }
    }
    return out;
  }
  out.code = "no_controller";
  out.message = "no controller answered";
  return out;
}

void HttpControllerClient::send(SerialWorker& worker, std::string method, std::string path,
                                std::string body, Done done) {
  worker.post([this, method = std::move(method), path = std::move(path), body = std::move(body),
               done = std::move(done)] {
    auto result = exchange(method, path, body);
    loop_.post([done, result] { done(result); });
  });
}

void HttpControllerClient::register_forwarding_routes(net::HttpServer& http,
                                                      const MetadataView& view) {
  auto proxy = [this, &view](const httplib::Request& req) {
    std::string target = req.target.empty() ? req.path : req.target;
    // The client's own credentials go on: the controller checks them again.
    std::vector<std::pair<std::string, std::string>> relayed;
    if (req.has_header("Authorization"))
      relayed.emplace_back("Authorization", req.get_header_value("Authorization"));
    auto result = exchange(req.method, target, req.body, &relayed);
    if (result.http_status == 0) {
      return net::json_error(503, "no_controller", "no controller answered; is a majority up?");
    }
    net::HttpResponse response{result.http_status, result.body};
    if (result.applied_index != 0) {
      // Read-your-writes on this node: the metadata tail usually lands in
      // well under a second; past the bound the answer goes out anyway.
      view.wait_applied(result.applied_index, kReadYourWritesWait);
      response.headers.emplace_back(net::kAppliedIndexHeader, std::to_string(result.applied_index));
    }
    return response;
  };
  http.post("/v1/topics", proxy);
  http.del(R"(/v1/topics/([^/]+))", proxy);
  http.post(R"(/v1/topics/([^/]+)/partitions)", proxy);
  http.post(R"(/v1/topics/([^/]+)/configs)", proxy);
  http.post(R"(/v1/topics/([^/]+)/partitions/([0-9]{1,9})/reassign)", proxy);
  http.get("/v1/reassignments", proxy);
  http.post("/v1/rebalance", proxy);
  http.post("/v1/elect-leaders", proxy);
  http.post("/v1/acls", proxy);
  http.del("/v1/acls", proxy);
  http.post("/v1/scram-users", proxy);
  http.del(R"(/v1/scram-users/([^/]+))", proxy);
  http.post("/internal/partitions/alter", proxy);
  http.post("/internal/producer-ids", proxy);
}

void HttpControllerClient::create_topic(const broker::TopicSpec& spec, bool validate_only,
                                        Done done) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("name");
  w.String(spec.name.c_str(), spec.name.size());
  w.Key("partitions");
  w.Int(spec.partitions);
  w.Key("replication_factor");
  w.Int(spec.replication_factor);
  w.Key("configs");
  w.StartObject();
  for (const auto& [key, value] : spec.configs) {
    w.Key(key.c_str(), key.size());
    w.String(value.c_str(), value.size());
  }
  w.EndObject();
  w.EndObject();
  send(worker_, "POST", std::string("/v1/topics") + (validate_only ? "?validate_only=true" : ""),
       buffer.GetString(), std::move(done));
}

void HttpControllerClient::delete_topic(const std::string& name, Done done) {
  send(worker_, "DELETE", "/v1/topics/" + path_segment(name), "", std::move(done));
}

void HttpControllerClient::create_partitions(const std::string& name, int32_t total_partitions,
                                             bool validate_only, Done done) {
  send(worker_, "POST",
       "/v1/topics/" + path_segment(name) + "/partitions" +
           (validate_only ? "?validate_only=true" : ""),
       "{\"count\":" + std::to_string(total_partitions) + "}", std::move(done));
}

void HttpControllerClient::alter_topic_configs(
    const std::string& topic, const std::map<std::string, std::optional<std::string>>& changes,
    bool validate_only, Done done) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("configs");
  w.StartObject();
  for (const auto& [key, value] : changes) {
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    if (value) {
      w.String(value->c_str(), static_cast<rapidjson::SizeType>(value->size()));
    } else {
      w.Null();
    }
  }
  w.EndObject();
  w.EndObject();
  send(worker_, "POST",
       "/v1/topics/" + encode_path_segment(topic) + "/configs" +
           (validate_only ? "?validate_only=true" : ""),
       buffer.GetString(), std::move(done));
}

void HttpControllerClient::reassign_partition(const std::string& topic, int32_t partition,
                                              const std::vector<int32_t>& replicas, Done done) {
  std::string body = "{\"replicas\":[";
  for (size_t i = 0; i < replicas.size(); ++i) {
    body += (i ? "," : "") + std::to_string(replicas[i]);
  }
  body += "]}";
  send(worker_, "POST",
       "/v1/topics/" + path_segment(topic) + "/partitions/" + std::to_string(partition) +
           "/reassign",
       body, std::move(done));
}

namespace {

std::vector<ElectionRow> election_rows(const std::string& body) {
  std::vector<ElectionRow> rows;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("results") ||
      !doc["results"].IsArray()) {
    return rows;
  }
  for (const auto& r : doc["results"].GetArray()) {
    if (!r.IsObject() || !r.HasMember("topic") || !r["topic"].IsString() ||
        !r.HasMember("partition") || !r["partition"].IsInt() || !r.HasMember("result") ||
        !r["result"].IsString()) {
      continue;
    }
    rows.push_back({r["topic"].GetString(), r["partition"].GetInt(), r["result"].GetString()});
  }
  return rows;
}

}  // namespace

void HttpControllerClient::elect_leaders(
    bool unclean, const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions,
    ElectDone done) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("type");
  w.String(unclean ? "unclean" : "preferred");
  if (partitions) {
    w.Key("partitions");
    w.StartArray();
    for (const auto& [topic, partition] : *partitions) {
      w.StartObject();
      w.Key("topic");
      w.String(topic.c_str(), static_cast<rapidjson::SizeType>(topic.size()));
      w.Key("partition");
      w.Int(partition);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  send(worker_, "POST", "/v1/elect-leaders", buffer.GetString(),
       [done = std::move(done)](const AdminResult& r) {
         done(r, r.ok() ? election_rows(r.body) : std::vector<ElectionRow>{});
       });
}

void HttpControllerClient::create_acl(const std::string& binding_json, Done done) {
  send(worker_, "POST", "/v1/acls", binding_json, std::move(done));
}

void HttpControllerClient::delete_acls(const std::string& filter_query, Done done) {
  send(worker_, "DELETE", "/v1/acls" + (filter_query.empty() ? "" : "?" + filter_query), "",
       std::move(done));
}

void HttpControllerClient::alter_client_quotas(const std::string& body, Done done) {
  send(worker_, "POST", "/v1/quotas", body, std::move(done));
}

void HttpControllerClient::upsert_scram_credential(const std::string& body, Done done) {
  send(worker_, "POST", "/v1/scram-users", body, std::move(done));
}

void HttpControllerClient::delete_scram_credential(const std::string& user,
                                                   const std::string& mechanism, Done done) {
  send(worker_, "DELETE",
       "/v1/scram-users/" + encode_path_segment(user) + "?mechanism=" + mechanism, "",
       std::move(done));
}

std::string alter_partition_body(const broker::AlterPartitionSpec& spec) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("broker_id");
  w.Int(spec.broker_id);
  w.Key("broker_epoch");
  w.Int64(spec.broker_epoch);
  w.Key("topic");
  w.String(spec.topic.c_str(), spec.topic.size());
  w.Key("partition");
  w.Int(spec.partition);
  w.Key("leader_epoch");
  w.Int(spec.leader_epoch);
  w.Key("partition_epoch");
  w.Int(spec.partition_epoch);
  w.Key("isr");
  w.StartArray();
  for (int32_t id : spec.isr) w.Int(id);
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

void HttpControllerClient::alter_partition(const broker::AlterPartitionSpec& spec, Done done) {
  send(replication_worker_, "POST", "/internal/partitions/alter", alter_partition_body(spec),
       std::move(done));
}

void HttpControllerClient::allocate_producer_ids(int32_t broker_id, int64_t broker_epoch,
                                                 Done done) {
  send(replication_worker_, "POST", "/internal/producer-ids",
       "{\"broker_id\":" + std::to_string(broker_id) +
           ",\"broker_epoch\":" + std::to_string(broker_epoch) + "}",
       std::move(done));
}

}  // namespace dmq::broker
