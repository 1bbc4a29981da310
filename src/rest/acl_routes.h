#pragma once
// GET /v1/acls?<filter fields>: the ACL bindings this node's metadata view
// holds that the filter matches (absent fields match anything):
//   {"acls":[{"principal","host","resource_type","resource_name","pattern_type",
//             "operation","permission_type"}]}
// 400 invalid_acl for a bad filter, 400 security_disabled without
// --authorizer.enabled. The writes (POST, DELETE) are the controller's
// (controller_service.h).

#include "broker/metadata_view.h"
#include "common/options.h"
#include "net/http_server.h"

namespace dmq::rest {

void register_acl_routes(net::HttpServer& http, const broker::MetadataView& view,
                         const Options& options);

}  // namespace dmq::rest
