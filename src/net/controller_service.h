#pragma once
// The controller's cluster-metadata service on top of the Raft driver: topic
// administration, broker registration and heartbeats, fencing of brokers
// whose sessions expire, and restoring preferred leaders (DESIGN.md §1, §3).
// Decisions come from the pure functions of src/cluster; this class turns
// them into Raft proposals and HTTP answers. Only the controller leader acts;
// other controllers forward writes to it (LeaderForwarder).
//
// REST (any controller):
//   POST   /v1/topics                         create (201), 409 if it exists
//   DELETE /v1/topics/{name}                  delete (200), 404 if unknown
//   POST   /v1/topics/{name}/partitions       {"count": n}: grow to n partitions
//   POST   /internal/brokers/register         broker registration -> broker epoch
//   POST   /internal/brokers/heartbeat        {"broker_id","broker_epoch","want_shutdown"}
//
// Threads: the handlers run on HTTP threads and hand work to the loop.

#include <chrono>
#include <functional>
#include <optional>

#include "cluster/broker_registry.h"
#include "cluster/metadata_raft_adapter.h"
#include "common/options.h"
#include "net/controller_http.h"
#include "net/event_loop.h"
#include "net/http_server.h"
#include "net/raft_driver.h"

namespace dmq::net {

class ControllerService {
 public:
  ControllerService(EventLoop& loop, RaftDriver& driver, cluster::MetadataRaftAdapter& metadata,
                    LeaderForwarder& forwarder, const Options& options);

  void register_routes(HttpServer& http);
  void start();  // loop thread
  void stop();   // loop thread

 private:
  using Planner =
      std::function<cluster::Result<cluster::RecordBatch>(const cluster::MetadataState&)>;
  using Renderer = std::function<HttpResponse(raft::LogIndex index)>;

  // HTTP thread: plans on the loop against the current state, proposes, and
  // answers once the batch is applied here (or with the reason it was not).
  HttpResponse propose_and_wait(const Planner& plan, const Renderer& on_success);
  void tick();
  // Creates or drops the leader-only state as leadership comes and goes;
  // true while this node leads.
  bool maybe_follow_leadership(int64_t now);
  void propose_background(cluster::RecordBatch batch, const char* what);
  int64_t now_ms() const;

  HttpResponse handle_create_topic(const httplib::Request& req);
  HttpResponse handle_delete_topic(const httplib::Request& req);
  HttpResponse handle_create_partitions(const httplib::Request& req);
  HttpResponse handle_register(const httplib::Request& req);
  HttpResponse handle_heartbeat(const httplib::Request& req);

  EventLoop& loop_;
  RaftDriver& driver_;
  cluster::MetadataRaftAdapter& metadata_;
  LeaderForwarder& forwarder_;
  const Options& options_;
  cluster::BrokerRegistry::Options registry_options_;
  std::optional<cluster::BrokerRegistry> registry_;  // present while this node leads
  asio::steady_timer timer_;
  int64_t next_rebalance_ms_ = 0;
  uint64_t background_in_flight_until_ = 0;  // applied index a background proposal waits for
  bool stopped_ = false;
};

}  // namespace dmq::net
