#include "rest/node_routes.h"

#include <httplib.h>

#include "common/metrics.h"

namespace dmq::rest {
namespace {

std::string health_json(const Options& options) {
  std::string roles;
  if (options.has_controller()) roles += "\"controller\"";
  if (options.has_broker()) roles += std::string(roles.empty() ? "" : ",") + "\"broker\"";
  return "{\"status\":\"ok\",\"node_id\":" + std::to_string(options.node_id) + ",\"roles\":[" +
         roles + "]}";
}

}  // namespace

void register_node_routes(net::HttpServer& http, const Options& options) {
  http.get("/v1/health", [body = health_json(options)](const httplib::Request&) {
    return net::HttpResponse{200, body};
  });
  http.get("/metrics", [](const httplib::Request&) {
    return net::HttpResponse{200, metrics::registry().render(), "text/plain; version=0.0.4"};
  });
}

}  // namespace dmq::rest
