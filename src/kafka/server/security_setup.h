#pragma once
// Turns the listener and security options (DESIGN §5, Kafka's names) into
// what the Kafka server runs: one ListenerEndpoint per listener, the TLS
// context slot SSL/SASL_SSL listeners share, and the SASL service. Reads the
// keystore, the truststore, the HS256 secret file and the JWKS file once, at
// start; TLS files again on reload_tls() (SIGHUP).

#include <asio.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/options.h"
#include "kafka/server/listener.h"
#include "kafka/server/sasl.h"
#include "security/authorizer_cache.h"

namespace dmq::kafka {

struct ServerSecurity {
  std::vector<std::unique_ptr<ListenerEndpoint>> endpoints;        // in --listeners order
  std::unique_ptr<security::TlsContextSlot> tls;                   // null without a TLS listener
  std::unique_ptr<security::SslPrincipalMapper> principal_mapper;  // with tls
  std::unique_ptr<SaslService> sasl;                               // null without a SASL listener
  bool tls13_only = false;                                         // ssl.enabled.protocols=TLSv1.3
  std::unique_ptr<security::AuthorizerCache> authorizer;  // null unless --authorizer.enabled
};

// "" on success, else a one-line reason naming the option ("--listeners: ...").
// Never quotes a secret.
std::string build_server_security(asio::io_context& io, const Options& options,
                                  ServerSecurity& out);

// Re-reads the keystore and truststore (SIGHUP). On failure the old context
// stays and the reason is returned.
std::string reload_tls(ServerSecurity& security);

}  // namespace dmq::kafka
