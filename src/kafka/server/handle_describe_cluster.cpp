#include "kafka/server/handlers.h"

namespace dmq::kafka {

void handle_describe_cluster(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<DescribeClusterRequest>(ex->request.body);
  DescribeClusterResponse resp;
  resp.endpoint_type = req.endpoint_type;
  if (req.endpoint_type != 1) {
    // KIP-919 controller endpoints are not exposed over the Kafka protocol.
    resp.error_code = ErrorCode::kInvalidRequest;
    resp.error_message = "only broker endpoints are served";
    ex->respond(make_response(*ex, resp, resp.error_code));
    return;
  }
  auto image = ctx.backend.metadata();
  resp.cluster_id = ctx.cluster_id;
  // Admin requests work on every broker, so any broker can act as "controller".
  resp.controller_id = ctx.backend.node_id().value;
  for (const auto& b :
       live_brokers(ctx, *image, &advertised_address(ctx.options, *ex), listener_name_of(*ex))) {
    DescribeClusterResponse::Broker out;
    out.broker_id = b.id;
    out.host = b.host;
    out.port = b.port;
    if (!b.rack.empty()) out.rack = b.rack;
    resp.brokers.push_back(std::move(out));
  }
  ex->respond(make_response(*ex, resp));
}

}  // namespace dmq::kafka
