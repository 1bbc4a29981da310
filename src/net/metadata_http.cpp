#include "net/metadata_http.h"

#include <httplib.h>

namespace dmq::net {

void register_metadata_routes(HttpServer& http, const broker::MetadataView& view,
                              cluster::PartitionOffsetsFn offsets) {
  http.get("/v1/brokers", [&view](const httplib::Request&) {
    return HttpResponse{200, cluster::brokers_json(*view.state())};
  });
  http.get("/v1/topics", [&view](const httplib::Request&) {
    return HttpResponse{200, cluster::topics_json(*view.state())};
  });
  http.get(R"(/v1/topics/([^/]+))", [&view, offsets](const httplib::Request& req) {
    std::string name = req.matches[1];
    auto body = cluster::topic_json(*view.state(), name, offsets);
    if (!body) return json_error(404, "unknown_topic", "no topic named '" + name + "'");
    return HttpResponse{200, *body};
  });
}

}  // namespace dmq::net
