#include "rest/forward.h"

#include <httplib.h>

#include "net/cluster_http.h"
#include "trace/tracer.h"

namespace dmq::rest {

net::HttpResponse forward_request(const httplib::Request& req, const std::string& host,
                                  uint16_t port, int64_t wait_ms, const char* marker_header,
                                  int32_t node_id) {
  net::PeerClient peer(host, port);  // https when the cluster serves HTTPS
  httplib::Client& client = peer.http();
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(static_cast<time_t>(wait_ms / 1000 + 20), 0);
  const std::string target = req.target.empty() ? req.path : req.target;
  httplib::Headers headers{{marker_header, "1"}};
  if (req.has_header("Authorization"))
    headers.emplace("Authorization", req.get_header_value("Authorization"));
  // The serving node's span joins the trace of this node's span for the call.
  if (auto context = trace::current_context())
    headers.emplace("traceparent", trace::format_traceparent(*context));
  auto result = req.method == "GET" ? client.Get(target.c_str(), headers)
                : req.method == "DELETE"
                    ? client.Delete(target.c_str(), headers)
                    : client.Post(target.c_str(), headers, req.body, "application/json");
  if (!result)
    return net::json_error(503, "node_unreachable",
                           "node " + std::to_string(node_id) + " is unreachable; retry");
  return net::HttpResponse{result->status, result->body, "application/json"};
}

}  // namespace dmq::rest
