#include "modes/node.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>

#include "broker/broker_agent.h"
#include "broker/http_controller_client.h"
#include "broker/metadata_view.h"
#include "broker/partition_manager.h"
#include "cluster/cluster_id.h"
#include "cluster/metadata_raft_adapter.h"
#include "cluster/metadata_store.h"
#include "common/log.h"
#include "common/metrics.h"
#include "console/console_routes.h"
#include "controller/controller_routes.h"
#include "controller/controller_service.h"
#include "controller/leader_forwarder.h"
#include "controller/raft_driver.h"
#include "group/coordinator.h"
#include "group/share_coordinator.h"
#include "kafka/server/service.h"
#include "modes/cluster_security.h"
#include "modes/data_dir.h"
#include "net/event_loop.h"
#include "net/http_server.h"
#include "rest/acl_routes.h"
#include "rest/consumer_routes.h"
#include "rest/group_routes.h"
#include "rest/log_dir_routes.h"
#include "rest/metadata_routes.h"
#include "rest/node_routes.h"
#include "rest/quota_routes.h"
#include "rest/record_routes.h"
#include "rest/rest_auth.h"
#include "rest/scram_routes.h"
#include "rest/share_group_io.h"
#include "rest/share_group_routes.h"
#include "rest/txn_peers.h"
#include "rest/txn_routes.h"
#include "store/file_env.h"
#include "store/lmdb.h"
#include "trace/tracer.h"
#include "txn/coordinator.h"

namespace dmq::modes {
namespace {

constexpr size_t kMaxHttpBodyBytes = size_t{1} << 20;

net::HttpServerLimits http_limits(const Options& options) {
  net::HttpServerLimits limits;
  limits.max_body_bytes = kMaxHttpBodyBytes;
  limits.idle_timeout_ms = options.http_idle_timeout_ms;
  limits.max_connections = static_cast<size_t>(options.http_max_connections);
  return limits;
}

// Everything a node owns. Members are destroyed in reverse order, so each one
// is declared after what it refers to.
struct Node {
  explicit Node(const Options& options)
      : options(options),
        http_security(build_http_security(options)),
        http(options.http_listen, http_limits(options), http_tls_of(http_security)) {}

  const Options& options;
  HttpSecurity http_security;
  DataDirLock lock;
  std::unique_ptr<store::Env> env;
  net::EventLoop loop;
  net::HttpServer http;
  std::unique_ptr<cluster::MetadataStore> metadata;
  broker::MetadataView view;
  std::unique_ptr<cluster::MetadataRaftAdapter> metadata_adapter;
  std::unique_ptr<store::FaultFileEnv> fault_env;  // test-only; outlives the data plane
  std::unique_ptr<kafka::Service> kafka;
  std::shared_ptr<rest::RestAuth> rest_auth;  // null unless --authorizer.enabled
  std::unique_ptr<asio::signal_set> hup;
  std::unique_ptr<controller::RaftDriver> raft;
  std::unique_ptr<controller::LeaderForwarder> forwarder;
  std::unique_ptr<controller::ControllerRoutes> controller_routes;
  std::unique_ptr<controller::ControllerService> controller;
  std::unique_ptr<broker::BrokerAgent> agent;
  std::unique_ptr<broker::HttpControllerClient> controller_client;
  std::unique_ptr<group::Coordinator> groups;
  std::unique_ptr<rest::TxnPeerIo> txn_peers;
  std::unique_ptr<txn::Coordinator> txns;
  std::unique_ptr<rest::ShareGroupIo> share_io;
  std::unique_ptr<group::ShareCoordinator> shares;
};

// The data directory lock, the LMDB environment and the cluster metadata it
// holds, published into the view.
bool open_storage(Node& node) {
  std::string error;
  if (!node.lock.acquire(node.options.data_dir, &error)) {
    LOG_ERROR("node") << error;
    return false;
  }
  try {
    node.env = store::Env::open({.path = node.options.data_dir + "/meta"});
  } catch (const store::StoreError& e) {
    LOG_ERROR("node") << e.what();
    return false;
  }
  node.metadata = std::make_unique<cluster::MetadataStore>(*node.env);
  if (auto status = node.metadata->load(); !status) {
    LOG_ERROR("node") << "cannot load cluster metadata: " << status.error().message;
    return false;
  }
  node.view.publish(std::make_shared<const cluster::MetadataState>(node.metadata->state()));
  node.metadata_adapter = std::make_unique<cluster::MetadataRaftAdapter>(*node.metadata);
  return true;
}

// Offsets of the partitions this node hosts, read on the loop that owns them.
cluster::PartitionOffsetsFn hosted_partition_offsets(Node& node) {
  return [&node](std::string_view topic,
                 cluster::PartitionId id) -> std::optional<cluster::PartitionOffsets> {
    if (!node.kafka) return std::nullopt;
    broker::Backend* backend = &node.kafka->backend();
    auto offsets = node.loop.call(
        [backend, topic = std::string(topic), id]() -> std::optional<cluster::PartitionOffsets> {
          auto r = backend->hosted_replica(topic, id);
          if (!r) return std::nullopt;  // not hosted here
          return cluster::PartitionOffsets{r->log_start_offset.value, r->high_watermark.value,
                                           static_cast<int64_t>(r->size_bytes)};
        },
        std::chrono::milliseconds(1000));
    return offsets ? *offsets : std::nullopt;
  };
}

controller::RaftDriverConfig raft_config(const Options& options) {
  controller::RaftDriverConfig config;
  config.id = raft::NodeId(options.node_id);
  config.voters = options.controllers;
  config.tick_ms = options.raft_heartbeat_ms;
  config.election_tick =
      std::max(2, options.raft_election_timeout_ms / std::max(1, options.raft_heartbeat_ms));
  config.snapshot_every_entries = options.raft_snapshot_entries;
  config.entries_kept_after_snapshot = options.raft_snapshot_keep;
  config.is_wiped_member = [&options] {
    return controller::probe_wiped_member(raft::NodeId(options.node_id), options.controllers,
                                          std::chrono::milliseconds(2000));
  };
  return config;
}

// The controller role: the Raft voter, which publishes every applied entry
// into the view, and the controller service with its routes.
bool build_controller(Node& node) {
  auto config = raft_config(node.options);
  node.raft = std::make_unique<controller::RaftDriver>(node.loop, *node.env, *node.metadata_adapter,
                                                       config);
  try {
    node.raft->start();
  } catch (const std::exception& e) {
    LOG_ERROR("node") << e.what();
    return false;
  }
  node.raft->on_applied([&node](raft::LogIndex) {
    std::shared_ptr<const cluster::MetadataState> state;
    node.metadata_adapter->with_state([&](const cluster::MetadataState& s) {
      state = std::make_shared<const cluster::MetadataState>(s);
    });
    node.view.publish(state);
  });
  node.forwarder = std::make_unique<controller::LeaderForwarder>(node.loop, *node.raft, config.id);
  node.controller_routes = std::make_unique<controller::ControllerRoutes>(
      node.loop, *node.raft, *node.forwarder, cluster::cluster_id_of(node.options.controllers));
  node.controller_routes->register_routes(node.http);
  node.controller = std::make_unique<controller::ControllerService>(
      node.loop, *node.raft, *node.metadata_adapter, *node.forwarder, node.options);
  node.controller->register_routes(node.http);
  node.controller->start();
  node.loop.on_shutdown([&node] {
    node.controller->stop();
    node.raft->stop();
  });
  return true;
}

// Authenticates the REST requests this node sends other nodes (its admin
// writes for Kafka clients it authorized, finding the controller leader,
// group listings) when REST authentication is on; empty otherwise.
net::RequestSigner node_signer(Node& node) {
  if (!node.rest_auth) return {};
  return [auth = node.rest_auth](const std::string& method, const std::string& target,
                                 const std::string& body) {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    return std::vector<std::pair<std::string, std::string>>{
        {std::string(rest::kNodeAuthHeader), auth->node_auth().sign(method, target, body, now)}};
  };
}

// The broker's link to the controllers: admin writes, registration,
// heartbeats and (on a broker-only node) the metadata log tail.
void build_broker_link(Node& node) {
  node.controller_client =
      std::make_unique<broker::HttpControllerClient>(node.loop, node.options.controllers);
  node.controller_client->set_signer(node_signer(node));
  if (!node.options.has_controller()) {
    node.controller_client->register_forwarding_routes(node.http, node.view);
  }
  node.agent = std::make_unique<broker::BrokerAgent>(
      node.loop, node.options, node.view,
      node.options.has_controller() ? nullptr : node.metadata.get());
  node.agent->set_signer(node_signer(node));
  // SIGTERM: hand leaderships over before anything closes.
  node.loop.before_shutdown(
      [&node](std::function<void()> proceed) { node.agent->shutdown_then(std::move(proceed)); });
  // Their threads may be waiting on this node's own HTTP API.
  node.loop.on_shutdown_blocking([&node] {
    node.agent->stop();
    node.controller_client->stop();
  });
}

// Test-only power loss, compiled only into dmq-test-hooks (DMQ_TEST_HOOKS)
// and enabled there by DMQ_TEST_FAULT_FS=1: partition logs live on a file
// layer that remembers what was fsynced, and POST /internal/test/power-off
// throws the rest away and kills the process on the spot, as a power cut
// would. The installed dmq has no such endpoint; with a cluster secret the
// endpoint, under /internal/, also needs a cluster signature.
void maybe_enable_test_power_off(Node& node) {
#ifndef DMQ_TEST_HOOKS
  (void)node;
#else
  const char* flag = std::getenv("DMQ_TEST_FAULT_FS");
  if (!flag || std::string(flag) != "1") return;
  node.fault_env = std::make_unique<store::FaultFileEnv>(store::posix_file_env());
  LOG_WARN("node") << "DMQ_TEST_FAULT_FS=1: partition logs on the fault-injection file layer";
  node.http.post("/internal/test/power-off", [env = node.fault_env.get()](const httplib::Request&) {
    env->power_off();
    std::_Exit(137);
    return net::HttpResponse{};
  });
#endif
}

// SIGHUP re-reads the TLS keystores and truststores (Kafka and HTTPS): new
// connections get the new certificate, open ones keep theirs (nothing is
// dropped).
void arm_sighup(Node& node) {
  node.hup->async_wait([&node](const asio::error_code& ec, int) {
    if (ec) return;  // cancelled at shutdown
    std::string error = node.kafka ? node.kafka->reload_tls() : "";
    if (node.http_security.tls && error.empty()) {
      if (auto status = node.http_security.tls->reload(); !status) {
        error = "HTTPS: " + status.error().message;
      }
    }
    if (!error.empty()) {
      LOG_ERROR("node") << "SIGHUP: keeping the old TLS certificates: " << error;
    } else {
      LOG_INFO("node") << "SIGHUP: TLS certificates reloaded";
    }
    arm_sighup(node);
  });
}

void watch_sighup(Node& node) {
  node.hup = std::make_unique<asio::signal_set>(node.loop.context(), SIGHUP);
  arm_sighup(node);
  node.loop.on_shutdown([&node] { node.hup->cancel(); });
}

// The Kafka data plane: the local partition replicas, the listener in front
// of them, and the group coordinator serving the group APIs on it.
// 0, or the exit code: 2 for a bad listener/TLS/SASL configuration.
int build_data_plane(Node& node) {
  auto partitions =
      node.fault_env
          ? std::make_unique<broker::PartitionManager>(node.loop.context(), node.options, node.view,
                                                       *node.controller_client, *node.fault_env)
          : std::make_unique<broker::PartitionManager>(node.loop.context(), node.options, node.view,
                                                       *node.controller_client);
  node.kafka = std::make_unique<kafka::Service>(node.loop.context(), node.options,
                                                std::move(partitions), *node.controller_client);
  node.kafka->set_cluster_id(cluster::cluster_id_of(node.options.controllers));
  if (std::string e = node.kafka->start(); !e.empty()) {
    LOG_ERROR("node") << "cannot serve Kafka: " << e;
    return node.kafka->failed_on_configuration() ? 2 : 1;
  }
  node.loop.on_shutdown([&node] { node.kafka->stop(); });
  node.groups = std::make_unique<group::Coordinator>(
      node.loop.context(), node.options, node.kafka->backend(), node.view, *node.controller_client);
  node.groups->register_handlers(*node.kafka);
  node.groups->start();
  node.loop.on_shutdown([&node] { node.groups->stop(); });
  node.txns = std::make_unique<txn::Coordinator>(node.loop.context(), node.options,
                                                 node.kafka->backend(), node.view, *node.groups);
  node.txn_peers = std::make_unique<rest::TxnPeerIo>(node.loop.context(), node.view);
  node.txns->set_peers(node.txn_peers.get());
  node.txns->register_handlers(*node.kafka);
  node.txns->start();
  node.loop.on_shutdown([&node] { node.txns->stop(); });
  return 0;
}

// Share groups (KIP-932 over REST): their coordinator, and its reads and
// dead-letter appends on partitions led here or by other brokers.
void build_share_groups(Node& node) {
  node.share_io =
      std::make_unique<rest::ShareGroupIo>(node.loop.context(), node.kafka->backend(), node.view);
  node.shares = std::make_unique<group::ShareCoordinator>(node.loop.context(), node.options,
                                                          node.kafka->backend(), *node.share_io,
                                                          node.view, *node.controller_client);
  node.shares->start();
  node.loop.on_shutdown([&node] { node.shares->stop(); });
}

// The read side of the REST API that every role serves.
void register_rest_routes(Node& node) {
  rest::register_node_routes(node.http, node.options);
  console::register_console_routes(node.http);
  rest::ListFilterFn listing_filter;
  if (node.rest_auth) {
    listing_filter = [auth = node.rest_auth](const httplib::Request& req) {
      return auth->listing_filter(req);
    };
  }
  rest::register_metadata_routes(node.http, node.view, hosted_partition_offsets(node),
                                 listing_filter);
  rest::register_metadata_metrics(node.view);
  rest::register_scram_user_routes(node.http, node.view);
  rest::register_acl_routes(node.http, node.view, node.options);
  rest::register_quota_routes(node.http, node.view);
  rest::register_group_routes(node.http, node.loop, node.groups.get(), node.view,
                              node.options.node_id, node_signer(node), listing_filter);
  rest::register_txn_routes(node.http, node.loop, node.txns.get(), node.view, node.options.node_id);
  rest::register_share_group_routes(node.http, node.loop, node.shares.get(),
                                    node.kafka ? &node.kafka->backend() : nullptr, node.view,
                                    node.options.node_id);
  rest::register_log_dir_routes(node.http, node.loop, node.kafka ? &node.kafka->backend() : nullptr,
                                node.options.node_id);
  rest::register_record_routes(node.http, node.loop, node.share_io.get(),
                               node.kafka ? &node.kafka->backend() : nullptr, node.view,
                               node.options.node_id);
  rest::register_consumer_routes(node.http, node.loop, node.groups.get(), node.share_io.get(),
                                 node.view, node.options);
}

void start_tracing(const Options& options) {
  if (options.otel_exporter_otlp_endpoint.empty()) return;
  trace::TracerConfig config;
  config.endpoint = options.otel_exporter_otlp_endpoint;
  config.sampler_ratio = options.otel_traces_sampler_ratio;
  config.resource.service_instance_id = std::to_string(options.node_id);
  trace::tracer().start_exporting(config);
  LOG_INFO("node") << "exporting traces to " << config.endpoint << " (sampler ratio "
                   << config.sampler_ratio << ")";
}

}  // namespace

int run_node(const Options& options) {
  // A write to a socket whose peer has gone (a Kafka sendfile, an HTTP client
  // call) must come back as EPIPE, not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  Node node(options);
  // Configuration errors exit 2, like usage errors: restarting cannot fix them.
  if (!node.http_security.error.empty()) {
    LOG_ERROR("node") << node.http_security.error;
    return 2;
  }
  if (std::string e = configure_cluster_traffic(options, node.http); !e.empty()) {
    LOG_ERROR("node") << e;
    return 2;
  }
  warn_about_open_http(options);
  if (auto auth = rest::RestAuth::create(options, node.view); !auth) {
    LOG_ERROR("node") << auth.error().message;
    return 2;
  } else {
    node.rest_auth = std::move(auth).value();
  }
  if (node.rest_auth) {
    node.http.set_gate(
        [auth = node.rest_auth](const httplib::Request& req) { return auth->check(req); });
  }
  if (!open_storage(node)) return 1;
  metrics::register_process_metrics(metrics::registry());
  start_tracing(options);
  // Stopping HTTP waits for its handlers, which may wait for the loop: it
  // runs off the loop, last, after the Raft driver failed pending proposals.
  node.loop.on_shutdown_blocking([&node] { node.http.stop(); });

  if (options.has_controller() && !build_controller(node)) return 1;
  if (options.has_broker()) build_broker_link(node);
  maybe_enable_test_power_off(node);
  if (options.has_broker()) {
    if (int rc = build_data_plane(node); rc != 0) return rc;
    node.agent->set_listeners(node.kafka->advertised_listeners());
  }
  watch_sighup(node);
  if (options.has_broker()) build_share_groups(node);
  register_rest_routes(node);

  if (std::string error = node.http.start(); !error.empty()) {
    LOG_ERROR("node") << "cannot listen for HTTP on " << error;
    return 1;
  }
  if (node.agent) node.agent->start();
  LOG_INFO("node") << "dmq node " << options.node_id << " (" << role_name(options.role)
                   << ") serving HTTP on " << options.http_listen.to_string() << ", data in "
                   << options.data_dir;
  node.loop.run();
  trace::tracer().stop();  // sends the spans still queued
  LOG_INFO("node") << "stopped cleanly";
  return 0;
}

}  // namespace dmq::modes
