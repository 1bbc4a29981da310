#include "modes/node.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>

#include "broker/metadata_view.h"
#include "cluster/metadata_raft_adapter.h"
#include "cluster/metadata_store.h"
#include "common/log.h"
#include "common/metrics.h"
#include "group/coordinator.h"
#include "kafka/service.h"
#include "modes/data_dir.h"
#include "net/broker_agent.h"
#include "net/controller_http.h"
#include "net/controller_service.h"
#include "net/event_loop.h"
#include "net/group_http.h"
#include "net/http_controller_client.h"
#include "net/http_server.h"
#include "net/metadata_http.h"
#include "net/raft_driver.h"
#include "store/file_env.h"
#include "store/lmdb.h"

namespace dmq::modes {
namespace {

constexpr size_t kMaxHttpBodyBytes = size_t{1} << 20;
// cpp-httplib pins a worker to each keep-alive connection, and a proposal holds
// its worker until applied: size the pool for peers, brokers tailing the log
// and concurrent writers, or Raft peer traffic starves behind client writes.
constexpr int kHttpWorkerThreads = 512;

std::string health_json(const Options& options) {
  std::string roles;
  if (options.has_controller()) roles += "\"controller\"";
  if (options.has_broker()) roles += std::string(roles.empty() ? "" : ",") + "\"broker\"";
  return "{\"status\":\"ok\",\"node_id\":" + std::to_string(options.node_id) + ",\"roles\":[" +
         roles + "]}";
}

// The cluster id is derived from the founding voters, which every founder
// shares, so all nodes report the same id without an extra round.
std::string cluster_id(const Options& options) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (const auto& voter : options.controllers) {
    for (char c : std::to_string(voter.node_id) + "@" + voter.http.to_string() + ",") {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

}  // namespace

int run_node(const Options& options) {
  DataDirLock lock;
  std::string error;
  if (!lock.acquire(options.data_dir, &error)) {
    LOG_ERROR("node") << error;
    return 1;
  }

  std::unique_ptr<store::Env> env;
  try {
    env = store::Env::open({.path = options.data_dir + "/meta"});
  } catch (const store::StoreError& e) {
    LOG_ERROR("node") << e.what();
    return 1;
  }

  metrics::register_process_metrics(metrics::registry());
  net::EventLoop loop;
  net::HttpServer http(options.http_listen, kMaxHttpBodyBytes, kHttpWorkerThreads);
  // Stopping HTTP waits for its handlers, which may wait for the loop: it
  // runs off the loop, last, after the Raft driver failed pending proposals.
  loop.on_shutdown_blocking([&http] { http.stop(); });
  http.get("/v1/health", [&options](const auto&) {
    return net::HttpResponse{200, health_json(options)};
  });
  http.get("/metrics", [](const auto&) {
    return net::HttpResponse{200, metrics::registry().render(), "text/plain; version=0.0.4"};
  });

  // Cluster metadata: applied by the Raft driver on controllers, by log
  // tailing on broker-only nodes; either way published into the view.
  cluster::MetadataStore metadata(*env);
  if (auto status = metadata.load(); !status) {
    LOG_ERROR("node") << "cannot load cluster metadata: " << status.error().message;
    return 1;
  }
  broker::MetadataView view;
  view.publish(std::make_shared<const cluster::MetadataState>(metadata.state()));
  cluster::MetadataRaftAdapter metadata_adapter(metadata);
  // Offsets of the partitions this node hosts, read on the loop that owns them.
  std::unique_ptr<store::FaultFileEnv> fault_env;  // test-only, see below; outlives the service
  std::unique_ptr<kafka::Service> kafka_service;
  auto partition_offsets =
      [&loop, &kafka_service](std::string_view topic,
                              cluster::PartitionId id) -> std::optional<cluster::PartitionOffsets> {
    if (!kafka_service) return std::nullopt;
    kafka::Backend* backend = &kafka_service->backend();
    auto offsets = loop.call(
        [backend, topic = std::string(topic),
         partition = id.value]() -> std::optional<cluster::PartitionOffsets> {
          auto offsets = backend->replica_offsets(topic, partition);
          if (!offsets) return std::nullopt;  // not hosted here
          return cluster::PartitionOffsets{offsets->first, offsets->second};
        },
        std::chrono::milliseconds(1000));
    return offsets ? *offsets : std::nullopt;
  };
  net::register_metadata_routes(http, view, partition_offsets);
  net::register_metadata_metrics(view);

  std::unique_ptr<net::RaftDriver> raft;
  std::unique_ptr<net::LeaderForwarder> forwarder;
  std::unique_ptr<net::ControllerService> controller;
  if (options.has_controller()) {
    net::RaftDriverConfig config;
    config.id = raft::NodeId(options.node_id);
    config.voters = options.controllers;
    config.tick_ms = options.raft_heartbeat_ms;
    config.election_tick =
        std::max(2, options.raft_election_timeout_ms / std::max(1, options.raft_heartbeat_ms));
    config.snapshot_every_entries = options.raft_snapshot_entries;
    config.entries_kept_after_snapshot = options.raft_snapshot_keep;
    config.is_wiped_member = [&options] {
      return net::probe_wiped_member(raft::NodeId(options.node_id), options.controllers,
                                     std::chrono::milliseconds(2000));
    };
    raft = std::make_unique<net::RaftDriver>(loop, *env, metadata_adapter, config);
    try {
      raft->start();
    } catch (const std::exception& e) {
      LOG_ERROR("node") << e.what();
      return 1;
    }
    raft->on_applied([&view, &metadata_adapter](raft::LogIndex) {
      std::shared_ptr<const cluster::MetadataState> state;
      metadata_adapter.with_state([&](const cluster::MetadataState& s) {
        state = std::make_shared<const cluster::MetadataState>(s);
      });
      view.publish(state);
    });
    forwarder = std::make_unique<net::LeaderForwarder>(loop, *raft, config.id);
    net::register_controller_routes(http, loop, *raft, *forwarder, cluster_id(options));
    controller = std::make_unique<net::ControllerService>(loop, *raft, metadata_adapter, *forwarder,
                                                          options);
    controller->register_routes(http);
    controller->start();
    loop.on_shutdown([&raft, &controller] {
      controller->stop();
      raft->stop();
    });
  }

  std::unique_ptr<net::BrokerAgent> agent;
  std::unique_ptr<net::HttpControllerClient> controller_client;
  if (options.has_broker()) {
    controller_client = std::make_unique<net::HttpControllerClient>(loop, options.controllers);
    if (!options.has_controller()) {
      controller_client->register_forwarding_routes(http, [&view](uint64_t index) {
        // Read-your-writes on this node: the metadata tail usually lands in
        // well under a second; past the bound the answer goes out anyway.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (view.applied_index() < index && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      });
    }
    agent = std::make_unique<net::BrokerAgent>(loop, options, view,
                                               options.has_controller() ? nullptr : &metadata);
    // SIGTERM: hand leaderships over before anything closes.
    loop.before_shutdown(
        [&agent](std::function<void()> proceed) { agent->shutdown_then(std::move(proceed)); });
    // Their threads may be waiting on this node's own HTTP API.
    loop.on_shutdown_blocking([&agent, &controller_client] {
      agent->stop();
      controller_client->stop();
    });
  }

  // KAFKA-SERVICE-WIRING
  std::unique_ptr<group::Coordinator> groups;
  // Test-only power loss (DMQ_TEST_FAULT_FS=1): partition logs live on a
  // file layer that remembers what was fsynced, and POST
  // /internal/test/power-off throws the rest away and kills the process on
  // the spot, as a power cut would. Never set in production.
  if (const char* f = std::getenv("DMQ_TEST_FAULT_FS"); f && std::string(f) == "1") {
    fault_env = std::make_unique<store::FaultFileEnv>(store::posix_file_env());
    LOG_WARN("node") << "DMQ_TEST_FAULT_FS=1: partition logs on the fault-injection file layer";
    http.post("/internal/test/power-off", [env = fault_env.get()](const httplib::Request&) {
      env->power_off();
      std::_Exit(137);
      return net::HttpResponse{};
    });
  }
  if (options.has_broker()) {
    kafka_service =
        fault_env
            ? std::make_unique<kafka::Service>(
                  loop.context(), options,
                  std::make_unique<broker::PartitionManager>(loop.context(), options, view,
                                                             *controller_client, *fault_env),
                  *controller_client)
            : std::make_unique<kafka::Service>(loop.context(), options, view, *controller_client);
    kafka_service->set_cluster_id(cluster_id(options));
    if (std::string e = kafka_service->start(); !e.empty()) {
      LOG_ERROR("node") << "cannot serve Kafka on " << e;
      return 1;
    }
    loop.on_shutdown([&kafka_service] { kafka_service->stop(); });
    // GROUP-COORDINATOR-WIRING: the group APIs of this broker's Kafka listener.
    groups = std::make_unique<group::Coordinator>(loop.context(), options, kafka_service->backend(),
                                                  view, *controller_client);
    groups->register_handlers(*kafka_service);
    groups->start();
    loop.on_shutdown([&groups] { groups->stop(); });
  }
  net::register_group_routes(http, loop, groups.get(), view, options.node_id);

  error = http.start();
  if (!error.empty()) {
    LOG_ERROR("node") << "cannot listen for HTTP on " << error;
    return 1;
  }
  if (agent) agent->start();

  LOG_INFO("node") << "dmq node " << options.node_id << " (" << role_name(options.role)
                   << ") serving HTTP on " << options.http_listen.to_string() << ", data in "
                   << options.data_dir;
  loop.run();
  LOG_INFO("node") << "stopped cleanly";
  return 0;
}

}  // namespace dmq::modes
