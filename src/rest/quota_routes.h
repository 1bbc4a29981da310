#pragma once
// GET /v1/quotas[?user=<name>][&client-id=<name>]: the client quotas this
// node's metadata view holds (quota/quota_json.h has the shape), only the
// entities whose user / client-id is that name when given:
//   {"quotas":[{"entity":{"user":"alice","client-id":null},
//               "values":{"producer_byte_rate":1048576}}]}
// The write (POST) is the controller's (controller_service.h).

#include "broker/metadata_view.h"
#include "net/http_server.h"

namespace dmq::rest {

void register_quota_routes(net::HttpServer& http, const broker::MetadataView& view);

}  // namespace dmq::rest
