#pragma once
// Node-level endpoints every role serves:
//   GET /v1/health   {"status":"ok","node_id":1,"roles":["controller","broker"]}
//   GET /metrics     Prometheus text format

#include "common/options.h"
#include "net/http_server.h"

namespace dmq::rest {

void register_node_routes(net::HttpServer& http, const Options& options);

}  // namespace dmq::rest
