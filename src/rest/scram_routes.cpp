#include "rest/scram_routes.h"

#include <charconv>

#include "common/json_escape.h"

namespace dmq::rest {
namespace {

// The iteration count of Kafka's credential text ("...,iterations=4096"); 0 if absent.
int iterations_of(std::string_view credential) {
  auto at = credential.rfind("iterations=");
  if (at == std::string_view::npos) return 0;
  int n = 0;
  auto digits = credential.substr(at + 11);
  std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return n;
}

}  // namespace

void register_scram_user_routes(net::HttpServer& http, const broker::MetadataView& view) {
  http.get("/v1/scram-users", [&view](const httplib::Request&) {
    auto state = view.state();
    std::string body = "{\"users\":[";
    bool first_user = true;
    for (const auto& [user, by_mechanism] : state->image().scram_credentials) {
      if (!first_user) body += ",";
      first_user = false;
      body += "{\"name\":\"";
      append_json_escaped(body, user);
      body += "\",\"credentials\":[";
      bool first = true;
      for (const auto& [mechanism, credential] : by_mechanism) {
        if (!first) body += ",";
        first = false;
        body += "{\"mechanism\":\"" + mechanism +
                "\",\"iterations\":" + std::to_string(iterations_of(credential)) + "}";
      }
      body += "]}";
    }
    body += "]}";
    return net::HttpResponse{200, body};
  });
}

}  // namespace dmq::rest
