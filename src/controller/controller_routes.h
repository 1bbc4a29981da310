#pragma once
// REST and internal endpoints of the controller quorum:
//   GET  /v1/cluster                      leader, term, commit index, voters
//   POST /v1/cluster/transfer-leader      {"to": id} (optional: the most caught-up voter)
//   POST /v1/cluster/voters               {"id": n, "address": "host:port"} adds a voter
//   DELETE /v1/cluster/voters/{id}        removes a voter
//   POST /internal/raft/messages          peer RPC (JSON, see net/raft_codec.h)
//   GET  /internal/raft/entries?from=&max_bytes=&wait_ms=   committed log tail (long poll)
//   GET  /internal/raft/joined/{id}       whether a voter ever held entries (wiped-member probe)
//   GET  /internal/raft/snapshot          the latest snapshot, for a reader far behind
//   POST /internal/raft/propose           replicates an opaque payload (tests, benchmarks)
// Writes reaching a follower go through the LeaderForwarder.
//
// Threads: handlers run on HTTP worker threads; what touches the Raft driver
// is posted to the event loop or uses the driver's thread-safe accessors.

#include <string>

#include "controller/leader_forwarder.h"
#include "controller/raft_driver.h"
#include "net/event_loop.h"
#include "net/http_server.h"

namespace dmq::controller {

class ControllerRoutes {
 public:
  // All references must outlive the routes (the HTTP server is stopped first).
  ControllerRoutes(net::EventLoop& loop, RaftDriver& driver, LeaderForwarder& forwarder,
                   std::string cluster_id);
  void register_routes(net::HttpServer& http);

 private:
  net::HttpResponse handle_raft_messages(const httplib::Request& req);
  net::HttpResponse handle_cluster_status(const httplib::Request& req);
  net::HttpResponse handle_transfer_leader(const httplib::Request& req);
  net::HttpResponse handle_add_voter(const httplib::Request& req);
  net::HttpResponse handle_remove_voter(const httplib::Request& req);
  net::HttpResponse handle_propose(const httplib::Request& req);
  net::HttpResponse handle_log_entries(const httplib::Request& req);
  net::HttpResponse handle_joined(const httplib::Request& req);
  net::HttpResponse handle_snapshot(const httplib::Request& req);

  net::EventLoop& loop_;
  RaftDriver& driver_;
  LeaderForwarder& forwarder_;
  const std::string cluster_id_;
};

}  // namespace dmq::controller
