#include "kafka/server/handlers.h"

namespace dmq::kafka {

void handle_api_versions(HandlerContext&, const ExchangePtr& ex) {
  const auto& req = std::get<ApiVersionsRequest>(ex->request.body);
  if (ex->request.header.api_version >= 3 &&
      (!valid_client_software_field(req.client_software_name) ||
       !valid_client_software_field(req.client_software_version))) {
    // KIP-511: librdkafka answers INVALID_REQUEST by retrying with v0.
    ex->respond(make_error(*ex, ErrorCode::kInvalidRequest));
    return;
  }
  ex->respond(make_response(*ex, make_api_versions_response()));
}

}  // namespace dmq::kafka
