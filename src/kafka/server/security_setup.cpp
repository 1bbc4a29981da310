#include "kafka/server/security_setup.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <sstream>

#include "common/log.h"
#include "security/cluster_secret.h"

namespace dmq::kafka {
namespace {

constexpr const char* kKnownMechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512",
                                            "OAUTHBEARER"};

std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, sep)) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// Kafka advertises a wildcard listener under the machine's name; DMQ asks
// the operator to say it (advertised.listeners) unless it is loopback.
HostPort advertised_of(const security::Listener& l, const Options& options, bool first) {
  if (first) return options.advertised_kafka;
  std::string host = l.host;
  if (host.empty() || host == "0.0.0.0" || host == "::") host = options.advertised_kafka.host;
  return HostPort{host, l.port};
}

std::string build_endpoints(const Options& options, ServerSecurity& out) {
  const SecurityOptions& s = options.security;
  auto map = security::parse_protocol_map(s.listener_security_protocol_map);
  if (!map) return "--listener.security.protocol.map: " + map.error().message;
  const std::string text =
      s.listeners.empty() ? "PLAINTEXT://" + options.kafka_listen.to_string() : s.listeners;
  auto listeners = security::parse_listeners(text, map.value());
  if (!listeners) return "--listeners: " + listeners.error().message;
  auto advertised =
      security::parse_advertised_listeners(s.advertised_listeners, listeners.value(), map.value());
  if (!advertised) return "--advertised.listeners: " + advertised.error().message;
  for (size_t i = 0; i < listeners.value().size(); ++i) {
    auto e = std::make_unique<ListenerEndpoint>();
    e->listener = listeners.value()[i];
    e->advertised = advertised_of(e->listener, options, i == 0);
    if (advertised.value()) {
      for (const auto& a : *advertised.value())
        if (a.name == e->listener.name) e->advertised = HostPort{a.host, a.port};
    }
    out.endpoints.push_back(std::move(e));
  }
  return "";
}

std::string build_tls(const Options& options, ServerSecurity& out) {
  const SecurityOptions& s = options.security;
  security::TlsServerConfig config;
  config.keystore_path = s.ssl_keystore_location;
  config.truststore_path = s.ssl_truststore_location;
  config.cipher_list = s.ssl_cipher_suites;
  config.ciphersuites = s.ssl_tls13_ciphersuites;
  auto client_auth = security::parse_client_auth(s.ssl_client_auth);
  if (!client_auth) return "--ssl.client.auth: expected none, requested or required";
  config.client_auth = *client_auth;
  if (config.keystore_path.empty()) return "--ssl.keystore.location is required for TLS listeners";
  if (!s.ssl_key_password_file.empty()) {
    auto password = security::load_cluster_secret(s.ssl_key_password_file);
    if (!password) return "--ssl.key.password.file: " + password.error().message;
    config.key_password = std::move(password).value();
  }
  auto mapper = security::SslPrincipalMapper::parse(s.ssl_principal_mapping_rules);
  if (!mapper) return "--" + mapper.error().message;
  out.principal_mapper = std::make_unique<security::SslPrincipalMapper>(std::move(mapper).value());
  auto slot = security::TlsContextSlot::create(std::move(config));
  if (!slot) return "--ssl.keystore.location: " + slot.error().message;
  out.tls = std::move(slot).value();
  out.tls13_only = s.ssl_enabled_protocols == "TLSv1.3";
  if (out.tls13_only) SSL_CTX_set_min_proto_version(out.tls->current().get(), TLS1_3_VERSION);
  for (auto& e : out.endpoints) {
    if (!security::uses_tls(e->listener.protocol)) continue;
    e->tls = out.tls.get();
    e->client_auth = *client_auth;
    e->principal_mapper = out.principal_mapper.get();
  }
  return "";
}

std::string oauth_keys(const SecurityOptions& s, SaslSettings& settings) {
  auto keys = security::JwtKeySource::open(s.sasl_oauthbearer_hs256_secret_file,
                                           s.sasl_oauthbearer_jwks_endpoint_url);
  if (!keys) return keys.error().message;
  settings.keys = std::move(keys).value();
  return "";
}

std::string build_authorizer(const SecurityOptions& s, ServerSecurity& out) {
  if (!s.authorizer_enabled) return "";
  auto super_users = security::parse_super_users(s.super_users);
  if (!super_users) return "--super.users: " + super_users.error().message;
  out.authorizer = std::make_unique<security::AuthorizerCache>(
      security::AuthorizerConfig{std::move(super_users).value(), s.allow_everyone_if_no_acl_found});
  return "";
}

std::string build_sasl(asio::io_context& io, const Options& options, ServerSecurity& out) {
  const SecurityOptions& s = options.security;
  SaslSettings settings;
  for (auto& m : split_list(s.sasl_enabled_mechanisms, ',')) {
    std::transform(m.begin(), m.end(), m.begin(), ::toupper);
    if (std::find(std::begin(kKnownMechanisms), std::end(kKnownMechanisms), m) ==
        std::end(kKnownMechanisms)) {
      return "--sasl.enabled.mechanisms: unknown mechanism " + m;
    }
    settings.mechanisms.push_back(m);
  }
  if (settings.mechanisms.empty()) return "--sasl.enabled.mechanisms is empty";
  settings.max_reauth_ms = s.connections_max_reauth_ms;
  settings.jwt.expected_issuer = s.sasl_oauthbearer_expected_issuer;
  settings.jwt.expected_audiences = split_list(s.sasl_oauthbearer_expected_audience, ',');
  settings.jwt.principal_claim = s.sasl_oauthbearer_sub_claim_name;
  settings.jwt.clock_skew_ms = s.sasl_oauthbearer_clock_skew_seconds * 1000;
  const bool oauth = std::find(settings.mechanisms.begin(), settings.mechanisms.end(),
                               "OAUTHBEARER") != settings.mechanisms.end();
  if (oauth) {
    if (std::string e = oauth_keys(s, settings); !e.empty()) return e;
  }
  out.sasl = std::make_unique<SaslService>(io, std::move(settings));
  return "";
}

// An operator binding a routable address with nothing to check who connects
// must hear about it.
void warn_about_open_listeners(const ServerSecurity& security) {
  for (const auto& e : security.endpoints) {
    const auto& l = e->listener;
    const bool authenticated =
        security::uses_sasl(l.protocol) ||
        (security::uses_tls(l.protocol) && e->client_auth == security::ClientAuth::kRequired);
    if (!authenticated && !loopback(l.host)) {
      LOG_WARN("kafka") << "SECURITY WARNING: listener " << l.name << " ("
                        << security::security_protocol_name(l.protocol) << ") on "
                        << (l.host.empty() ? "*" : l.host) << ":" << l.port
                        << " accepts clients WITHOUT AUTHENTICATION from the network; use "
                           "SASL_SSL or ssl.client.auth=required, or bind it to loopback";
    }
  }
}

}  // namespace

std::string build_server_security(asio::io_context& io, const Options& options,
                                  ServerSecurity& out) {
  if (std::string e = build_endpoints(options, out); !e.empty()) return e;
  bool tls = false;
  bool sasl = false;
  for (const auto& e : out.endpoints) {
    tls |= security::uses_tls(e->listener.protocol);
    sasl |= security::uses_sasl(e->listener.protocol);
  }
  if (tls) {
    if (std::string e = build_tls(options, out); !e.empty()) return e;
  }
  if (sasl) {
    if (std::string e = build_sasl(io, options, out); !e.empty()) return e;
  }
  if (std::string e = build_authorizer(options.security, out); !e.empty()) return e;
  warn_about_open_listeners(out);
  return "";
}

std::string reload_tls(ServerSecurity& security) {
  if (!security.tls) return "";
  auto status = security.tls->reload();
  if (!status) return status.error().message;
  if (security.tls13_only)
    SSL_CTX_set_min_proto_version(security.tls->current().get(), TLS1_3_VERSION);
  return "";
}

}  // namespace dmq::kafka
