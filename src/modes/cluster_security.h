#pragma once
// Wiring of the node-wide security that is not the Kafka port's: TLS on the
// HTTP listener, how this node reaches its peers (http/https, CA, client
// certificate) and the cluster secret that signs and checks node-to-node
// requests. Every error is a configuration error (the node exits 2).

#include <memory>
#include <string>

#include "common/options.h"
#include "net/http_server.h"
#include "security/tls.h"

namespace dmq::modes {

struct HttpSecurity {
  std::unique_ptr<security::TlsContextSlot> tls;  // null for plain HTTP
  std::string error;                              // one line naming the option; empty: fine
};

// Reads the HTTPS keystore and truststore (--http.listeners=HTTPS://...).
HttpSecurity build_http_security(const Options& options);
net::HttpTls http_tls_of(const HttpSecurity& security);

// Loads --cluster.secret.file (0600) and sets up net::PeerClient and the
// /internal guard on `http`. "" or a one-line error.
std::string configure_cluster_traffic(const Options& options, net::HttpServer& http);

// The loud warning of an HTTP listener on a routable address while
// node-to-node requests are not authenticated (no secret, no mTLS).
void warn_about_open_http(const Options& options);

}  // namespace dmq::modes
