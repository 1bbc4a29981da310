#pragma once
// The Kafka data plane of a broker: the TCP listener and the request handlers
// in front of the local partition replicas (a broker::Backend, in production
// the broker::PartitionManager that src/modes builds), as one object that
// src/modes wires into a node.
//
//   kafka::Service kafka(loop.context(), options, std::move(partitions), controller);
//   if (auto e = kafka.start(); !e.empty()) { LOG_ERROR(...) << e; return 1; }
//   loop.on_shutdown([&] { kafka.stop(); });
//
// Ownership: `options`, `view` and `controller` must outlive the Service.
// Threads: construct, start and stop on the event-loop thread (or before the
// loop runs); everything else happens on the loop.

#include <asio.hpp>
#include <memory>
#include <string>

#include "broker/backend.h"
#include "broker/controller_client.h"
#include "common/options.h"
#include "kafka/server/connection_limits.h"
#include "kafka/server/handlers.h"
#include "kafka/server/quota_gate.h"
#include "kafka/server/request_budget.h"
#include "kafka/server/security_setup.h"
#include "kafka/server/server.h"
#include "net/worker_pool.h"

namespace dmq::kafka {

class Service {
 public:
  // `backend` is the broker's PartitionManager in production; tests use fakes.
  Service(asio::io_context& io, const Options& options, std::unique_ptr<Backend> backend,
          broker::ControllerClient& controller);
  ~Service();

  // Opens the partition logs (with recovery) and binds the Kafka listener:
  // "" or a one-line reason like "127.0.0.1:9092: Address already in use".
  std::string start();
  // Closes the listener and the connections, then serves the queued group
  // commits, flushes and checkpoints the logs. Idempotent.
  void stop();

  // The bound port of the first listener (useful when it asked for port 0).
  uint16_t port() const { return servers_.empty() ? 0 : servers_.front()->port(); }
  // SIGHUP: new TLS connections use the re-read keystore and truststore;
  // open ones keep theirs. "" or the reason the old context stays.
  std::string reload_tls();
  // Every listener as clients reach it (after start()), in --listeners order:
  // what the broker registers so others' Metadata can name it per listener.
  std::vector<cluster::BrokerListener> advertised_listeners() const;
  // After start() failed: true when the cause is the listener, TLS or SASL
  // configuration (an operator error: the node exits 2), not a bind error.
  bool failed_on_configuration() const { return failed_on_configuration_; }
  Backend& backend() { return *backend_; }
  // The cluster id reported by Metadata v2+ and DescribeCluster.
  void set_cluster_id(std::string id) { ctx_.cluster_id = std::move(id); }
  // Lets another component (the group coordinator) serve an API key.
  void set_handler(ApiKey key, std::function<void(const ExchangePtr&)> handler) {
    ctx_.external[static_cast<int16_t>(key)] = std::move(handler);
  }
  // Lets the transaction coordinator serve InitProducerId with a transactional id.
  void set_transactional_init_handler(std::function<void(const ExchangePtr&)> handler) {
    ctx_.transactional_init_producer_id = std::move(handler);
  }

 private:
  const Options& options_;
  std::unique_ptr<Backend> backend_;
  asio::io_context& io_;
  RequestBudget request_budget_;
  ConnectionLimits connection_limits_;
  QuotaGate quotas_;
  // Fetch v0-v3 down-conversion: reads and rewrites every record (about
  // 10 ms per MiB), which on the loop would stall every other connection.
  net::WorkerPool down_conversion_;
  HandlerContext ctx_;
  ServerSecurity security_;
  bool failed_on_configuration_ = false;
  std::vector<std::unique_ptr<Server>> servers_;
  bool stopped_ = false;
};

}  // namespace dmq::kafka
