#pragma once
// GET /v1/scram-users: the SCRAM users this node's metadata view knows, with
// each credential's mechanism and iteration count (never a salt or a key):
//   {"users":[{"name":"alice","credentials":[{"mechanism":"SCRAM-SHA-512","iterations":4096}]}]}
// The writes (POST, DELETE) are the controller's (controller_service.h).

#include "broker/metadata_view.h"
#include "net/http_server.h"

namespace dmq::rest {

void register_scram_user_routes(net::HttpServer& http, const broker::MetadataView& view);

}  // namespace dmq::rest
