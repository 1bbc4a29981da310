#include "rest/txn_routes.h"

#include <httplib.h>

#include "common/json_escape.h"
#include "net/cluster_http.h"

namespace dmq::rest {
namespace {

constexpr auto kLoopTimeout = std::chrono::milliseconds(2000);

std::string json_str(std::string_view s) {
  std::string out = "\"";
  append_json_escaped(out, s);
  return out + "\"";
}

std::string to_json(const txn::TxnView& t, int32_t self_id) {
  std::string j = "{\"transactional_id\":" + json_str(t.transactional_id) +
                  ",\"producer_id\":" + std::to_string(t.meta.producer_id) +
                  ",\"producer_epoch\":" + std::to_string(t.meta.producer_epoch) +
                  ",\"state\":" + json_str(txn::state_name(t.meta.state)) +
                  ",\"timeout_ms\":" + std::to_string(t.meta.timeout_ms) +
                  ",\"start_time_ms\":" + std::to_string(t.meta.start_ms) +
                  ",\"coordinator\":" + std::to_string(self_id) + ",\"partitions\":[";
  bool first = true;
  for (const auto& [topic, partition] : t.meta.partitions) {
    j += (first ? "" : ",") + std::string("{\"topic\":") + json_str(topic) +
         ",\"partition\":" + std::to_string(partition) + "}";
    first = false;
  }
  return j + "]}";
}

// The objects of another broker's {"transactions":[...]} answer, as written.
std::string remote_items(const std::string& host, uint16_t port) {
  net::PeerClient peer(host, port);
  httplib::Client& client = peer.http();
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(3, 0);
  auto r = peer.get("/v1/transactions?local=1");
  if (!r || r->status != 200) return "";
  const std::string& body = r->body;
  auto open = body.find('[');
  auto close = body.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close <= open + 1) return "";
  return body.substr(open + 1, close - open - 1);
}

constexpr auto kMarkerTimeout = std::chrono::milliseconds(15000);

int64_t int_param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) throw std::invalid_argument(name);
  return std::stoll(req.get_param_value(name));
}

net::HttpResponse error_answer(std::optional<kafka::ErrorCode> e) {
  if (!e) return net::json_error(503, "busy", "the event loop did not answer in time");
  return net::HttpResponse{200, "{\"error\":" + std::to_string(static_cast<int>(*e)) + "}"};
}

net::HttpResponse internal_marker(const httplib::Request& req, net::EventLoop& loop,
                                  txn::Coordinator* coordinator) {
  txn::MarkerWrite m;
  try {
    m.topic = req.get_param_value("topic");
    m.partition = static_cast<int32_t>(int_param(req, "partition"));
    m.producer_id = int_param(req, "producer_id");
    m.producer_epoch = static_cast<int16_t>(int_param(req, "producer_epoch"));
    m.commit = int_param(req, "commit") == 1;
    m.coordinator_epoch = static_cast<int32_t>(int_param(req, "coordinator_epoch"));
  } catch (const std::exception&) {
    return net::json_error(400, "invalid_request",
                           "topic, partition, producer_id, producer_epoch, commit, "
                           "coordinator_epoch");
  }
  return error_answer(loop.call_async<kafka::ErrorCode>(
      [coordinator, m](auto done) { coordinator->write_marker_here(m, std::move(done)); },
      kMarkerTimeout));
}

net::HttpResponse internal_verify(const httplib::Request& req, net::EventLoop& loop,
                                  txn::Coordinator* coordinator) {
  broker::TxnVerification v;
  try {
    v.transactional_id = req.get_param_value("transactional_id");
    v.producer_id = int_param(req, "producer_id");
    v.producer_epoch = static_cast<int16_t>(int_param(req, "producer_epoch"));
    v.partition.topic = req.get_param_value("topic");
    v.partition.partition = broker::PartitionId(static_cast<int32_t>(int_param(req, "partition")));
  } catch (const std::exception&) {
    return net::json_error(400, "invalid_request",
                           "transactional_id, producer_id, producer_epoch, topic, partition");
  }
  return error_answer(loop.call_async<kafka::ErrorCode>(
      [coordinator, v](auto done) { coordinator->verify_here(v, std::move(done)); }, kLoopTimeout));
}

}  // namespace

void register_txn_routes(net::HttpServer& http, net::EventLoop& loop, txn::Coordinator* coordinator,
                         const broker::MetadataView& view, int32_t self_id) {
  http.get("/v1/transactions",
           [&loop, coordinator, &view, self_id](const httplib::Request& req) -> net::HttpResponse {
             std::vector<std::string> parts;
             if (coordinator) {
               auto own = loop.call([coordinator] { return coordinator->list(); }, kLoopTimeout);
               if (!own)
                 return net::json_error(503, "busy", "the event loop did not answer in time");
               for (const auto& t : *own) parts.push_back(to_json(t, self_id));
             }
             if (req.get_param_value("local") != "1") {
               for (const auto& [id, b] : view.current()->brokers) {
                 if (id.value == self_id || b.fenced) continue;
                 if (std::string items = remote_items(b.http_host, b.http_port); !items.empty()) {
                   parts.push_back(items);
                 }
               }
             }
             std::string j = "{\"transactions\":[";
             for (size_t i = 0; i < parts.size(); ++i) j += (i ? "," : "") + parts[i];
             return net::HttpResponse{200, j + "]}"};
           });
  if (!coordinator) return;
  http.post("/internal/txn/marker", [&loop, coordinator](const httplib::Request& req) {
    return internal_marker(req, loop, coordinator);
  });
  http.post("/internal/txn/verify", [&loop, coordinator](const httplib::Request& req) {
    return internal_verify(req, loop, coordinator);
  });
}

}  // namespace dmq::rest
