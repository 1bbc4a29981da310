#include "modes/node.h"

#include <memory>

#include "common/log.h"
#include "common/metrics.h"
#include "modes/data_dir.h"
#include "net/event_loop.h"
#include "net/http_server.h"
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
