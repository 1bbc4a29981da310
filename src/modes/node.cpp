#include "modes/node.h"

#include <memory>

#include "cluster/metadata_raft_adapter.h"
#include "cluster/metadata_store.h"
#include "common/log.h"
#include "common/metrics.h"
#include "modes/data_dir.h"
#include "net/controller_http.h"
#include "net/event_loop.h"
#include "net/http_server.h"
#include "net/raft_driver.h"
#include "store/lmdb.h"

namespace dmq::modes {
namespace {

constexpr size_t kMaxHttpBodyBytes = size_t{1} << 20;
constexpr int kHttpWorkerThreads = 16;

std::string health_json(const Options& options) {
  std::string roles;
  if (options.has_controller()) roles += "\"controller\"";
  if (options.has_broker()) roles += std::string(roles.empty() ? "" : ",") + "\"broker\"";
  return "{\"status\":\"ok\",\"node_id\":" + std::to_string(options.node_id) + ",\"roles\":[" +
         roles + "]}";
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
  http.get("/v1/health", [&options](const auto&) {
    return net::HttpResponse{200, health_json(options)};
  });
  http.get("/metrics", [](const auto&) {
    return net::HttpResponse{200, metrics::registry().render(), "text/plain; version=0.0.4"};
  });

  // Controller quorum: the metadata state machine replicated by Raft.
  cluster::MetadataStore metadata(*env);
  if (auto status = metadata.load(); !status) {
    LOG_ERROR("node") << "cannot load cluster metadata: " << status.error().message;
    return 1;
  }
  cluster::MetadataRaftAdapter metadata_adapter(metadata);
  std::unique_ptr<net::RaftDriver> raft;
  std::unique_ptr<net::LeaderForwarder> forwarder;
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
    forwarder = std::make_unique<net::LeaderForwarder>(loop, *raft, config.id);
    net::register_controller_routes(http, loop, *raft, *forwarder, "dmq");
    loop.on_shutdown([&raft] { raft->stop(); });
  }

  // KAFKA-SERVICE-WIRING

  error = http.start();
  if (!error.empty()) {
    LOG_ERROR("node") << "cannot listen for HTTP on " << error;
    return 1;
  }
  loop.on_shutdown([&http] { http.stop(); });

  LOG_INFO("node") << "dmq node " << options.node_id << " (" << role_name(options.role)
                   << ") serving HTTP on " << options.http_listen.to_string() << ", data in "
                   << options.data_dir;
  loop.run();
  LOG_INFO("node") << "stopped cleanly";
  return 0;
}

}  // namespace dmq::modes
