#include "rest/txn_peers.h"

#include <httplib.h>
#include <rapidjson/document.h>

#include "net/cluster_http.h"

namespace dmq::rest {
namespace {

std::string param(const std::string& s) {
  return httplib::detail::encode_query_param(s);
}

}  // namespace

TxnPeerIo::TxnPeerIo(asio::io_context& io, const broker::MetadataView& view)
    : view_(view), workers_(io, 4) {}

void TxnPeerIo::write_marker(int32_t broker_id, const txn::MarkerWrite& m, Done done) {
  std::string path =
      "/internal/txn/marker?topic=" + param(m.topic) + "&partition=" + std::to_string(m.partition) +
      "&producer_id=" + std::to_string(m.producer_id) +
      "&producer_epoch=" + std::to_string(m.producer_epoch) + "&commit=" + (m.commit ? "1" : "0") +
      "&coordinator_epoch=" + std::to_string(m.coordinator_epoch);
  call(broker_id, std::move(path), kafka::ErrorCode::kNotLeaderOrFollower, std::move(done));
}

void TxnPeerIo::verify(int32_t broker_id, const broker::TxnVerification& v, Done done) {
  std::string path = "/internal/txn/verify?transactional_id=" + param(v.transactional_id) +
                     "&producer_id=" + std::to_string(v.producer_id) +
                     "&producer_epoch=" + std::to_string(v.producer_epoch) +
                     "&topic=" + param(v.partition.topic) +
                     "&partition=" + std::to_string(v.partition.partition.value);
  call(broker_id, std::move(path), kafka::ErrorCode::kNotEnoughReplicas, std::move(done));
}

void TxnPeerIo::call(int32_t broker_id, std::string path, kafka::ErrorCode unreachable, Done done) {
  auto image = view_.current();
  auto b = image->brokers.find(cluster::BrokerId(broker_id));
  if (b == image->brokers.end() || b->second.fenced) {
    workers_.post_to_loop([done = std::move(done), unreachable] { done(unreachable); });
    return;
  }
  std::string host = b->second.http_host;
  uint16_t port = b->second.http_port;
  workers_.submit(
      [this, host, port, path = std::move(path), unreachable, done = std::move(done)]() mutable {
        // Signed when a cluster secret is set: /internal/* serves cluster members only.
        auto r = PeerWorkers::client_for(host, port)
                     .Post(path.c_str(), net::cluster_auth_headers("POST", path, ""), "",
                           "application/json");
        kafka::ErrorCode e = unreachable;
        if (r && r->status == 200) {
          rapidjson::Document doc;
          doc.Parse(r->body.c_str());
          if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("error") &&
              doc["error"].IsInt()) {
            e = static_cast<kafka::ErrorCode>(doc["error"].GetInt());
          }
        }
        workers_.post_to_loop([done = std::move(done), e] { done(e); });
      });
}

}  // namespace dmq::rest
