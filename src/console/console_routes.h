#pragma once
// The web console (GET / and /ui/...): a single page that reads the REST API
// of the node it was loaded from. Static files only; every number on it comes
// from the same endpoints an operator can curl.

#include "net/http_server.h"

namespace dmq::console {

void register_console_routes(net::HttpServer& http);

}  // namespace dmq::console
