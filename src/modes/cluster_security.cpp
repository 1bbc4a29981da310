#include "modes/cluster_security.h"

#include "common/log.h"
#include "net/cluster_http.h"
#include "security/cluster_secret.h"

namespace dmq::modes {
namespace {

bool loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::string or_default(const std::string& value, const std::string& fallback) {
  return value.empty() ? fallback : value;
}

}  // namespace

HttpSecurity build_http_security(const Options& options) {
  HttpSecurity out;
  const SecurityOptions& s = options.security;
  if (!s.http_tls) return out;
  security::TlsServerConfig config;
  config.keystore_path = or_default(s.http_ssl_keystore_location, s.ssl_keystore_location);
  config.truststore_path = or_default(s.http_ssl_truststore_location, s.ssl_truststore_location);
  config.cipher_list = s.ssl_cipher_suites;
  config.ciphersuites = s.ssl_tls13_ciphersuites;
  if (config.keystore_path.empty()) {
    out.error =
        "--http.listeners=HTTPS needs --http.ssl.keystore.location (or --ssl.keystore.location)";
    return out;
  }
  auto client_auth = security::parse_client_auth(s.http_ssl_client_auth);
  if (!client_auth) {
    out.error = "--http.ssl.client.auth: expected none, requested or required";
    return out;
  }
  config.client_auth = *client_auth;
  const std::string password_file =
      or_default(s.http_ssl_key_password_file,
                 s.http_ssl_keystore_location.empty() ? s.ssl_key_password_file : "");
  if (!password_file.empty()) {
    auto password = security::load_cluster_secret(password_file);
    if (!password) {
      out.error = "--http.ssl.key.password.file: " + password.error().message;
      return out;
    }
    config.key_password = std::move(password).value();
  }
  auto slot = security::TlsContextSlot::create(std::move(config));
  if (!slot) {
    out.error = "--http.ssl.keystore.location: " + slot.error().message;
    return out;
  }
  out.tls = std::move(slot).value();
  return out;
}

net::HttpTls http_tls_of(const HttpSecurity& security) {
  if (!security.tls) return {};
  security::TlsContextSlot* slot = security.tls.get();
  return net::HttpTls{[slot] { return slot->current(); }};
}

std::string configure_cluster_traffic(const Options& options, net::HttpServer& http) {
  const SecurityOptions& s = options.security;
  net::ClusterHttpSettings settings;
  settings.node_id = options.node_id;
  settings.https = s.http_tls;
  settings.ca_path = or_default(s.http_ssl_truststore_location, s.ssl_truststore_location);
  // Offered to peers that ask for a client certificate (mTLS between nodes).
  settings.client_keystore_path = or_default(s.http_ssl_keystore_location, s.ssl_keystore_location);
  if (!s.cluster_secret_file.empty()) {
    auto secret = security::load_cluster_secret(s.cluster_secret_file);
    if (!secret) return "--cluster.secret.file: " + secret.error().message;
    settings.secret = std::move(secret).value();
  }
  const bool signed_traffic = !settings.secret.empty();
  net::configure_cluster_http(std::move(settings));
  if (signed_traffic) {
    http.set_internal_guard(net::check_cluster_request);
    LOG_INFO("security") << "node-to-node requests are signed and checked with the cluster secret";
  }
  return "";
}

void warn_about_open_http(const Options& options) {
  const SecurityOptions& s = options.security;
  const bool members_authenticated =
      !s.cluster_secret_file.empty() || (s.http_tls && s.http_ssl_client_auth == "required");
  if (members_authenticated || loopback(options.http_listen.host)) return;
  LOG_WARN("security") << "SECURITY WARNING: the HTTP listener " << options.http_listen.to_string()
                       << " accepts node-to-node requests (Raft, broker registration, ISR "
                          "changes) from ANYONE who can reach it; set --cluster.secret.file "
                          "(or --http.ssl.client.auth=required), or bind it to loopback";
}

}  // namespace dmq::modes
