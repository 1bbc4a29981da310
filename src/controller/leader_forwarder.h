#pragma once
// Writes reaching a controller that is not the Raft leader are proxied to the
// leader (its address comes from the driver's peer address book), so `curl`
// against any controller works. During an election a write waits up to 3 s
// for a leader, then answers 503. A relayed success is answered once this
// node has applied it (read-your-writes, bounded at 2 s).
//
// Threads: forward_or_run runs on an HTTP worker thread and blocks it.

#include <chrono>
#include <functional>
#include <vector>

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
  net::HttpResponse relay(const httplib::Request& req, raft::NodeId leader);

  net::EventLoop& loop_;
  RaftDriver& driver_;
  raft::NodeId self_;
};

// Asks the other voters, in parallel and for at most `timeout`, whether
// `self` is recorded as a member that held log entries.
bool probe_wiped_member(raft::NodeId self, const std::vector<Voter>& voters,
                        std::chrono::milliseconds timeout);

}  // namespace dmq::controller
