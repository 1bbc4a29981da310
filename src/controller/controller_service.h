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
//   POST   /v1/scram-users                    {"name","mechanism","password","iterations"?}:
//                                             201; the controller derives the credential
//   DELETE /v1/scram-users/{name}?mechanism=  200, 404 unknown_user
//   POST   /v1/acls                           one ACL binding (DESIGN §5 fields): 201
//   DELETE /v1/acls?<filter fields>           200 {"deleted":[bindings]}; absent = any
//   POST   /v1/topics/{t}/partitions/{p}/reassign {"replicas":[ids]}: starts (or
//                                             replaces, or cancels) a KIP-455 move
//   GET    /v1/reassignments                  the moves in progress
//   POST   /v1/rebalance                      plans and starts the moves that even out
//                                             replicas and preferred leaders
//   POST   /v1/elect-leaders                  {"type":"preferred|unclean","partitions"?}
//   POST   /v1/quotas                         client quotas of one entity (quota/quota_json.h):
//                                             200 {"entity":..,"validate_only":..}, 400
//                                             invalid_request
//   POST   /internal/brokers/register         broker registration -> broker epoch
//   POST   /internal/brokers/heartbeat        {"broker_id","broker_epoch","want_shutdown"}
//   POST   /internal/partitions/alter         AlterPartition (KIP-497), see below
//   POST   /internal/producer-ids             AllocateProducerIds (KIP-730), see below
//
// AlterPartition: body {"broker_id","broker_epoch","topic","partition",
// "leader_epoch","partition_epoch","isr":[ids]} (all required). 200 answers
// the partition state the committed change produced:
// {"leader","leader_epoch","partition_epoch","isr":[ids]}. Errors (JSON, as
// cluster::ErrorCode): 400 invalid_request | invalid_json (malformed body),
// 400 invalid_isr (leader missing, not a replica, duplicate, fenced newcomer),
// 404 unknown_broker | unknown_topic | unknown_partition, 409
// stale_broker_epoch, 409 not_leader (the broker does not lead at that leader
// epoch), 409 stale_partition_epoch (built on an old state, also when a
// concurrent change committed first: the state machine re-checks at apply),
// 503 (no controller leader / not committed: retry).
//
// AllocateProducerIds: body {"broker_id","broker_epoch"}. 200 answers
// {"first_producer_id":N,"count":1000}: the broker owns [N, N+count). Blocks
// never overlap: each is an AllocateProducerIdsRecord in the Raft log that
// applies only at the image's next block start. Errors: 400 invalid_request,
// 404 unknown_broker, 409 stale_broker_epoch, 503 (retry).
//
// Note: 409 not_leader concerns partition leadership; a 503 whose code is
// not_leader means the controller leadership moved (retry).
//
// Threads: the handlers run on HTTP threads and hand work to the loop.

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cluster/broker_registry.h"
#include "cluster/election.h"
#include "cluster/metadata_raft_adapter.h"
#include "common/options.h"
#include "controller/broker_watch.h"
#include "controller/leader_forwarder.h"
#include "controller/raft_driver.h"
#include "net/event_loop.h"
#include "net/http_server.h"
#include "security/acl.h"

namespace dmq::controller {

// Reads the AlterPartition body. kInvalidRequest names a missing or
// mistyped field; the semantic checks are cluster::handle_alter_partition's.
cluster::Result<cluster::AlterPartitionRequest> parse_alter_partition_request(
    const rapidjson::Value& body);
// The partition state once the change AlterPartition planned for `request` is
// applied: the same leader and leader epoch, the new ISR, and the next
// partition epoch (the record applies only at request.partition_epoch).
std::string altered_partition_json(const cluster::AlterPartitionRequest& request);

// A cluster error as its JSON body and HTTP status.
net::HttpResponse cluster_error(const cluster::Error& error);

// ACL REST helpers shared with GET /v1/acls (src/rest): the filter in the
// query string (absent fields match anything) and a security error as JSON.
security::Result<security::AclBindingFilter> acl_filter_of(const httplib::Request& req);
net::HttpResponse acl_error(const security::Error& error);
net::HttpResponse security_disabled();

class ControllerService {
 public:
  ControllerService(net::EventLoop& loop, RaftDriver& driver,
                    cluster::MetadataRaftAdapter& metadata, LeaderForwarder& forwarder,
                    const Options& options);

  void register_routes(net::HttpServer& http);
  void start();  // loop thread
  void stop();   // loop thread

 private:
  using Planner =
      std::function<cluster::Result<cluster::RecordBatch>(const cluster::MetadataState&)>;
  using Renderer = std::function<net::HttpResponse(raft::LogIndex index)>;

  // HTTP thread: plans on the loop against the current state, proposes, and
  // answers once the batch is applied here (or with the reason it was not).
  net::HttpResponse propose_and_wait(const Planner& plan, const Renderer& on_success);
  void tick();
  // Leader: proposes the fencing of brokers whose session expired or whose
  // process is gone, else (when due) the preferred-leader moves.
  void maybe_fence_or_rebalance(int64_t now);
  void update_reassignment_gauge();
  // Points the broker watch at the registrations in the current image.
  void update_broker_watch();
  // Creates or drops the leader-only state as leadership comes and goes;
  // true while this node leads.
  bool maybe_follow_leadership(int64_t now);
  void propose_background(cluster::RecordBatch batch, const char* what);
  int64_t now_ms() const;

  net::HttpResponse handle_create_topic(const httplib::Request& req);
  net::HttpResponse handle_delete_topic(const httplib::Request& req);
  net::HttpResponse handle_create_partitions(const httplib::Request& req);
  net::HttpResponse handle_alter_topic_configs(const httplib::Request& req);
  net::HttpResponse topic_state_response(const std::string& name);
  net::HttpResponse handle_register(const httplib::Request& req);
  net::HttpResponse handle_heartbeat(const httplib::Request& req);
  net::HttpResponse handle_alter_partition(const httplib::Request& req);
  net::HttpResponse handle_allocate_producer_ids(const httplib::Request& req);
  // scram_users.cpp
  net::HttpResponse handle_upsert_scram_user(const httplib::Request& req);
  net::HttpResponse handle_delete_scram_user(const httplib::Request& req);
  void load_scram_bootstrap();
  void maybe_bootstrap_scram();
  // reassignments.cpp
  net::HttpResponse handle_reassign_partition(const httplib::Request& req);
  net::HttpResponse handle_list_reassignments(const httplib::Request& req);
  net::HttpResponse handle_rebalance(const httplib::Request& req);
  net::HttpResponse handle_elect_leaders(const httplib::Request& req);
  // acls.cpp
  net::HttpResponse handle_create_acl(const httplib::Request& req);
  net::HttpResponse handle_delete_acls(const httplib::Request& req);
  // quotas.cpp
  net::HttpResponse handle_alter_quotas(const httplib::Request& req);

  net::EventLoop& loop_;
  RaftDriver& driver_;
  cluster::MetadataRaftAdapter& metadata_;
  LeaderForwarder& forwarder_;
  const Options& options_;
  cluster::BrokerRegistry::Options registry_options_;
  std::optional<cluster::BrokerRegistry> registry_;  // present while this node leads
  asio::steady_timer timer_;
  BrokerWatch broker_watch_;  // every controller watches; only the leader fences
  int64_t next_rebalance_ms_ = 0;
  uint64_t background_in_flight_until_ = 0;  // applied index a background proposal waits for
  bool stopped_ = false;
  // Held by the HTTP thread across one producer-id allocation, so that
  // allocations through this leader commit one after the other instead of
  // racing for the same block start.
  std::mutex producer_ids_mutex_;
  // --sasl.scram.bootstrap.file, derived at start (credentials, no passwords).
  std::vector<cluster::UserScramCredentialRecord> scram_bootstrap_;
  bool scram_bootstrapped_ = false;  // proposed during this leadership
};

}  // namespace dmq::controller
