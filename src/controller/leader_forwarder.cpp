#include "controller/leader_forwarder.h"
#include "net/cluster_http.h"
#include "trace/tracer.h"

#include <httplib.h>

#include <future>
#include <thread>

namespace dmq::controller {
namespace {

using std::chrono::milliseconds;

constexpr auto kElectionWait = milliseconds(3000);
constexpr auto kReadYourWritesWait = milliseconds(2000);
// Marks a relayed request, so a leadership change mid-relay answers 503
// instead of bouncing between nodes.
constexpr const char* kForwardedHeader = "X-DMQ-Forwarded";

}  // namespace

net::HttpResponse LeaderForwarder::forward_or_run(const httplib::Request& req,
                                                  const std::function<net::HttpResponse()>& local) {
  auto deadline = std::chrono::steady_clock::now() + kElectionWait;
  for (;;) {
    auto leader = driver_.leader_id();
    if (leader == self_) {
      net::HttpResponse response = local();
      if (response.status >= 200 && response.status < 300) {
        response.headers.emplace_back(net::kAppliedIndexHeader,
                                      std::to_string(driver_.applied_index().value));
      }
      return response;
    }
    if (leader != raft::kNoNode) return relay(req, leader);
    if (std::chrono::steady_clock::now() >= deadline) {
      return net::json_error(503, "no_leader",
                             "no controller leader was elected within 3 s (is a majority up?)");
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

net::HttpResponse LeaderForwarder::relay(const httplib::Request& req, raft::NodeId leader) {
  if (req.has_header(kForwardedHeader)) {
    return net::json_error(503, "not_leader", "leadership moved while forwarding; retry");
  }
  auto address = driver_.address_of(leader);
  if (!address) return net::json_error(503, "no_leader_address", "the leader's address is unknown");
  net::PeerClient peer(address->host, address->port);
  httplib::Client& client = peer.http();
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(40, 0);
  std::string target = req.target.empty() ? req.path : req.target;
  httplib::Headers headers = net::cluster_auth_headers(req.method, target, req.body);
  headers.emplace(kForwardedHeader, "1");
  // The client's credentials (or the sending node's signature) go on: the
  // leader authenticates and authorizes the request again.
  for (const char* name : {"Authorization", "X-DMQ-Node-Auth"}) {
    if (req.has_header(name)) headers.emplace(name, req.get_header_value(name));
  }
  // The leader's work joins the trace of this node's REST call.
  if (auto context = trace::current_context())
    headers.emplace("traceparent", trace::format_traceparent(*context));
  auto result = req.method == "POST"
                    ? client.Post(target.c_str(), headers, req.body, "application/json")
                : req.method == "DELETE" ? client.Delete(target.c_str(), headers)
                                         : client.Get(target.c_str(), headers);
  if (!result) {
    return net::json_error(503, "leader_unreachable",
                           "controller leader " + std::to_string(leader.value) + " at " +
                               address->to_string() + " is unreachable");
  }
  std::string content_type = result->get_header_value("Content-Type");
  net::HttpResponse response{result->status, result->body,
                             content_type.empty() ? "application/json" : content_type};
  if (auto applied = net::applied_index_of(*result)) {
    // Read-your-writes on this node; a slow follower only delays the answer.
    driver_.wait_applied(raft::LogIndex(*applied), kReadYourWritesWait);
    response.headers.emplace_back(net::kAppliedIndexHeader, std::to_string(*applied));
  }
  return response;
}

bool probe_wiped_member(raft::NodeId self, const std::vector<Voter>& voters,
                        std::chrono::milliseconds timeout) {
  std::vector<std::future<bool>> answers;
  for (const auto& voter : voters) {
    if (raft::NodeId(voter.node_id) == self) continue;
    answers.push_back(std::async(std::launch::async, [voter, self, timeout] {
      net::PeerClient client(voter.http.host, voter.http.port);
      client.http().set_connection_timeout(0, 300000);
      client.http().set_read_timeout(1, 0);
      auto deadline = std::chrono::steady_clock::now() + timeout;
      while (std::chrono::steady_clock::now() < deadline) {
        auto result = client.get("/internal/raft/joined/" + std::to_string(self.value));
        if (result && result->status == 200) {
          return result->body.find("\"joined\":true") != std::string::npos;
        }
        std::this_thread::sleep_for(milliseconds(100));
      }
      return false;  // no answer: a new cluster forming, or the peer is down
    }));
  }
  bool wiped = false;
  for (auto& answer : answers) wiped |= answer.get();
  return wiped;
}

}  // namespace dmq::controller
