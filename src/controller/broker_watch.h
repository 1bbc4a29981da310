#pragma once
// BrokerWatch: tells a controller that a broker's process is gone, long
// before the broker's session (broker.session.timeout.ms) runs out.
//
// The controller holds one idle TCP connection to the Kafka listener each
// registered broker advertised. It sends nothing on it; the broker's Kafka
// server simply waits for a request. When the broker process dies, its
// kernel closes that connection (FIN or RST) and the listening socket with
// it, so a new connect is refused. The verdict "gone" needs both: the watch
// connection had been established once, and a connect to the same address
// was refused afterwards. A process that is frozen (SIGSTOP) or merely slow
// keeps its sockets: the connection stays open and new connects complete in
// the kernel's backlog, so it is never reported; a network partition gives
// timeouts, not refusals, so it is still left to the session timeout.
//
// A "gone" registration becomes alive again as soon as a connect to it
// succeeds (a listener came back at that address); the watch keeps probing
// once a second meanwhile.
//
// Every controller watches, not only the leader: a newly elected leader
// knows at once which brokers died together with, or just before, the old
// leader, instead of granting them a full session (KIP-631 grace period).
//
// Threads: everything on the thread running the io_context (the event loop);
// `on_gone` runs there.

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cluster/types.h"

namespace dmq::controller {

struct WatchTarget {
  cluster::BrokerId broker;
  cluster::BrokerEpoch epoch;
  std::string host;
  uint16_t port = 0;
  bool operator==(const WatchTarget&) const = default;
};

class BrokerWatch {
 public:
  using Registration = std::pair<cluster::BrokerId, cluster::BrokerEpoch>;

  // `on_gone` runs each time a registration is found gone.
  BrokerWatch(asio::io_context& io, std::function<void()> on_gone);
  ~BrokerWatch();
  BrokerWatch(const BrokerWatch&) = delete;
  BrokerWatch& operator=(const BrokerWatch&) = delete;

  // The registrations to watch: new ones get a connection, changed ones
  // (another epoch or address) a fresh one, missing ones are dropped.
  void update(const std::vector<WatchTarget>& targets);
  // Registrations whose process is currently known to be gone.
  std::set<Registration> gone() const;
  void stop();

 private:
  struct Watch;
  asio::io_context& io_;
  std::function<void()> on_gone_;
  std::map<cluster::BrokerId, std::shared_ptr<Watch>> watches_;
};

}  // namespace dmq::controller
