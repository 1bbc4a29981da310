#include "rest/acl_routes.h"

#include <httplib.h>

#include "controller/controller_service.h"
#include "security/acl.h"

namespace dmq::rest {

void register_acl_routes(net::HttpServer& http, const broker::MetadataView& view,
                         const Options& options) {
  http.get("/v1/acls", [&view, &options](const httplib::Request& req) {
    if (!options.security.authorizer_enabled) return controller::security_disabled();
    auto filter = controller::acl_filter_of(req);
    if (!filter) return controller::acl_error(filter.error());
    std::vector<security::AclBinding> matched;
    auto image = view.current();
    for (const std::string& encoded : image->acls) {
      auto binding = security::decode_acl_binding(encoded);
      if (binding && filter.value().matches(binding.value()))
        matched.push_back(std::move(binding).value());
    }
    return net::HttpResponse{200, security::acl_bindings_to_json("acls", matched)};
  });
}

}  // namespace dmq::rest
