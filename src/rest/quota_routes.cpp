#include "rest/quota_routes.h"

#include <httplib.h>

#include "quota/quota_json.h"

namespace dmq::rest {
namespace {

// The entity has `type` named `name` (not its default) when a filter asks.
bool matches(const quota::Entity& entity, std::string_view type, const httplib::Request& req) {
  if (!req.has_param(std::string(type))) return true;
  auto it = entity.find(type);
  return it != entity.end() && it->second && *it->second == req.get_param_value(std::string(type));
}

}  // namespace

void register_quota_routes(net::HttpServer& http, const broker::MetadataView& view) {
  http.get("/v1/quotas", [&view](const httplib::Request& req) {
    auto image = view.current();
    return net::HttpResponse{
        200, quota::quotas_to_json(image->client_quotas, [&](const quota::Entity& entity) {
          return matches(entity, quota::kUserType, req) &&
                 matches(entity, quota::kClientIdType, req);
        })};
  });
}

}  // namespace dmq::rest
