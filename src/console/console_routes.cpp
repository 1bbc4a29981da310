#include "console/console_routes.h"

#include <httplib.h>

#include <string>

#include "console/assets.h"

namespace dmq::console {
namespace {

std::string content_type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

net::HttpResponse serve(std::string_view name) {
  for (const auto& asset : assets()) {
    if (asset.name != name) continue;
    net::HttpResponse out{200, std::string(asset.bytes), content_type_of(name)};
    // The page loads nothing from elsewhere and may not be framed: a console
    // that holds an operator's token must not run anyone else's script.
    out.headers = {{"Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"},
                   {"X-Content-Type-Options", "nosniff"},
                   {"Cache-Control", "no-cache"}};
    return out;
  }
  return net::json_error(404, "not_found", "no console file named '" + std::string(name) + "'");
}

}  // namespace

void register_console_routes(net::HttpServer& http) {
  auto index = [](const httplib::Request&) { return serve("index.html"); };
  http.get("/", index);
  http.get("/ui", index);
  http.get("/ui/", index);
  http.get(R"(/ui/([a-z_]+\.(?:js|css|svg)))",
           [](const httplib::Request& req) { return serve(req.matches[1].str()); });
}

}  // namespace dmq::console
