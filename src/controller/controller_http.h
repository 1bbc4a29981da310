#pragma once
// REST and internal endpoints of the controller quorum:
//   GET  /v1/cluster                      leader, term, commit index, voters
//   POST /v1/cluster/transfer-leader      {"to": id} (optional: the most caught-up voter)
//   POST /v1/cluster/voters               {"id": n, "address": "host:port"} adds a voter
//   DELETE /v1/cluster/voters/{id}        removes a voter
//   POST /internal/raft/messages          peer RPC (JSON, see raft_codec.h)
//   GET  /internal/raft/entries?from=&max_bytes=&wait_ms=   committed log tail (long poll)
//   GET  /internal/raft/snapshot          the latest snapshot, for a reader far behind
//   POST /internal/raft/propose           replicates an opaque payload (tests, benchmarks)
// Writes reaching a follower are forwarded to the leader; during an election
// they wait briefly for one, then answer 503.

#include <functional>
#include <string>

#include "controller/raft_driver.h"
#include "net/event_loop.h"
#include "net/http_server.h"

namespace dmq::controller {

// Runs `local` on the leader; elsewhere proxies the request to the leader.
class LeaderForwarder {
 public:
  LeaderForwarder(net::EventLoop& loop, RaftDriver& driver, raft::NodeId self)
      : loop_(loop), driver_(driver), self_(self) {}
  net::HttpResponse forward_or_run(const httplib::Request& req,
                                   const std::function<net::HttpResponse()>& local);

 private:
  net::EventLoop& loop_;
  RaftDriver& driver_;
  raft::NodeId self_;
};

// Asks the other voters, in parallel and for at most `timeout`, whether
// `self` is recorded as a member that held log entries.
bool probe_wiped_member(raft::NodeId self, const std::vector<Voter>& voters,
                        std::chrono::milliseconds timeout);

void register_controller_routes(net::HttpServer& http, net::EventLoop& loop, RaftDriver& driver,
                                LeaderForwarder& forwarder, const std::string& cluster_id);

}  // namespace dmq::controller
