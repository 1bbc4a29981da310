#pragma once
// Relaying a public REST request to the node that can serve it (a group's
// coordinator, a partition's leader, a broker), once: the relayed copy carries
// `marker_header`, and a node that receives a marked request it cannot serve
// answers 503 instead of relaying again. The client's Authorization header
// travels with it, and so does the trace: a `traceparent` naming the span
// this thread is working for (trace::current_context), so the serving node's
// span is its child.

#include <cstdint>
#include <string>

#include "net/http_server.h"

namespace dmq::rest {

// Sends `req` (method, path with query, body) to host:port and returns its
// answer; 503 `node_unreachable` when the node does not answer. `wait_ms` is
// how long the request itself may wait there (long polls), added to the read
// timeout.
net::HttpResponse forward_request(const httplib::Request& req, const std::string& host,
                                  uint16_t port, int64_t wait_ms, const char* marker_header,
                                  int32_t node_id);

}  // namespace dmq::rest
