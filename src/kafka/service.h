#pragma once
// The Kafka data plane of a broker: the TCP listener, the request handlers
// and the local partition replicas (broker::PartitionManager), as one object
// that src/modes wires into a node.
//
//   kafka::Service kafka(loop.context(), options, view, controller);
//   if (auto e = kafka.start(); !e.empty()) { LOG_ERROR(...) << e; return 1; }
//   loop.on_shutdown([&] { kafka.stop(); });
//
// Ownership: `options`, `view` and `controller` must outlive the Service.
// Threads: construct, start and stop on the event-loop thread (or before the
// loop runs); everything else happens on the loop.

#include <asio.hpp>
#include <memory>
#include <string>

#include "broker/controller_client.h"
#include "broker/metadata_view.h"
#include "broker/partition_manager.h"
#include "common/options.h"
#include "kafka/handlers.h"
#include "kafka/server.h"
#include "kafka/server_backend.h"

namespace dmq::kafka {

class Service {
 public:
  // The production wiring: partitions in <data-dir>/logs on the real file system.
  Service(asio::io_context& io, const Options& options, broker::MetadataView& view,
          broker::ControllerClient& controller);
  // Any backend (tests use fakes).
  Service(asio::io_context& io, const Options& options, std::unique_ptr<Backend> backend,
          broker::ControllerClient& controller);
  ~Service();

  // Opens the partition logs (with recovery) and binds the Kafka listener:
  // "" or a one-line reason like "127.0.0.1:9092: Address already in use".
  std::string start();
  // Closes the listener and the connections, then serves the queued group
  // commits, flushes and checkpoints the logs. Idempotent.
  void stop();

  // The bound port (useful when kafka_listen asked for port 0).
  uint16_t port() const { return server_.port(); }
  Backend& backend() { return *backend_; }
  // The cluster id reported by Metadata v2+ and DescribeCluster.
  void set_cluster_id(std::string id) { ctx_.cluster_id = std::move(id); }
  // Lets another component (the group coordinator) serve an API key.
  void set_handler(ApiKey key, std::function<void(const ExchangePtr&)> handler) {
    ctx_.external[static_cast<int16_t>(key)] = std::move(handler);
  }

 private:
  const Options& options_;
  std::unique_ptr<Backend> backend_;
  HandlerContext ctx_;
  Server server_;
  bool stopped_ = false;
};

// Defined here rather than in service.cpp so that dmq_kafka, which dmq_broker
// links against, holds no reference to dmq_broker: the code that builds the
// PartitionManager is compiled into the caller (src/modes, tests).
inline Service::Service(asio::io_context& io, const Options& options, broker::MetadataView& view,
                        broker::ControllerClient& controller)
    : Service(io, options,
              std::make_unique<broker::PartitionManager>(io, options, view, controller),
              controller) {}

}  // namespace dmq::kafka
