#pragma once
// broker::ControllerClient over the controllers' REST API. Requests go to
// the configured controllers in turn (any of them forwards to the leader) on
// a worker thread; answers are posted back to the event loop. The replication
// calls (alter_partition, allocate_producer_ids) have their own worker, so an
// ISR change never queues behind a slow topic administration call.
// Endpoints and JSON shapes: net/controller_service.h.

#include <atomic>
#include <cstdint>
#include <functional>

#include "broker/controller_client.h"
#include "broker/metadata_view.h"
#include "common/options.h"
#include "common/serial_worker.h"
#include "net/event_loop.h"
#include "net/http_server.h"

namespace dmq::broker {

class HttpControllerClient : public broker::ControllerClient {
 public:
  HttpControllerClient(net::EventLoop& loop, std::vector<Voter> controllers);
  ~HttpControllerClient() override;

  void create_topic(const broker::TopicSpec& spec, bool validate_only, Done done) override;
  void delete_topic(const std::string& name, Done done) override;
  void create_partitions(const std::string& name, int32_t total_partitions, bool validate_only,
                         Done done) override;
  void alter_partition(const broker::AlterPartitionSpec& spec, Done done) override;
  void alter_topic_configs(const std::string& topic,
                           const std::map<std::string, std::optional<std::string>>& changes,
                           bool validate_only, Done done) override;
  void allocate_producer_ids(int32_t broker_id, int64_t broker_epoch, Done done) override;
  void create_acl(const std::string& binding_json, Done done) override;
  void reassign_partition(const std::string& topic, int32_t partition,
                          const std::vector<int32_t>& replicas, Done done) override;
  void elect_leaders(bool unclean,
                     const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions,
                     ElectDone done) override;
  void delete_acls(const std::string& filter_query, Done done) override;
  void alter_client_quotas(const std::string& body, Done done) override;
  void upsert_scram_credential(const std::string& body, Done done) override;
  void delete_scram_credential(const std::string& user, const std::string& mechanism,
                               Done done) override;
  void stop();

  // Authenticates each request this node originates (X-DMQ-Node-Auth when
  // REST authentication is on). Set before the first request.
  void set_signer(net::RequestSigner signer) { signer_ = std::move(signer); }

  // On a broker-only node: the REST writes (topic administration) are
  // proxied to the controllers, so `curl` against any node works. A
  // successful write is answered once `view` has applied it (read-your-writes,
  // bounded at 2 s).
  void register_forwarding_routes(net::HttpServer& http, const MetadataView& view);

 private:
  void send(SerialWorker& worker, std::string method, std::string path, std::string body,
            Done done);
  // `relayed`: headers of the client request a broker-only node relays
  // (its Authorization), sent instead of this node's own signature.
  broker::AdminResult exchange(
      const std::string& method, const std::string& path, const std::string& body,
      const std::vector<std::pair<std::string, std::string>>* relayed = nullptr);

  net::EventLoop& loop_;
  std::vector<Voter> controllers_;
  std::atomic<size_t> next_{0};
  net::RequestSigner signer_;
  SerialWorker worker_{"admin-client"};
  SerialWorker replication_worker_{"ctl-rpc-client"};
};

// The body of POST /internal/partitions/alter for `spec`.
std::string alter_partition_body(const broker::AlterPartitionSpec& spec);

}  // namespace dmq::broker
