#pragma once
// TLS contexts for the Kafka listeners (SSL, SASL_SSL), the HTTP server and
// the node-to-node clients, built with OpenSSL from Kafka's options
// (DESIGN §5): --ssl.keystore.location (PEM: certificate chain, then the
// private key, in one file), --ssl.truststore.location (PEM CA bundle),
// --ssl.client.auth=none|requested|required. TLS 1.2 is the minimum.
//
// Reads files: build at startup and on SIGHUP (TlsContextSlot::reload), never
// per connection. A built SSL_CTX is immutable and shared by connections on
// any thread. Errors name the option, the file and OpenSSL's reason; never
// key material or the key password.
//
// mTLS principal (Kafka's DefaultKafkaPrincipalBuilder with the DEFAULT
// ssl.principal.mapping.rules): "User:" + the peer certificate's subject as
// an RFC 2253 string, e.g. "User:CN=alice,OU=eng,O=Acme,C=US" (most specific
// RDN first, as Java's X500Principal.getName()). Without a verified peer
// certificate the principal is "User:ANONYMOUS".

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "security/error.h"
#include "security/principal_mapping.h"

struct ssl_ctx_st;  // SSL_CTX
struct ssl_st;      // SSL
struct x509_st;     // X509

namespace dmq::security {

enum class ClientAuth { kNone, kRequested, kRequired };
// "none" | "requested" | "required" (case-insensitive).
std::optional<ClientAuth> parse_client_auth(std::string_view text);

struct TlsServerConfig {
  std::string keystore_path;    // required
  std::string key_password;     // ssl.key.password, for an encrypted key; empty: none
  std::string truststore_path;  // required for client auth requested/required
  ClientAuth client_auth = ClientAuth::kNone;
  std::string cipher_list;   // ssl.cipher.suites for TLS 1.2 (OpenSSL syntax); empty: default
  std::string ciphersuites;  // TLS 1.3 suites; empty: OpenSSL's default
};

struct TlsClientConfig {
  std::string truststore_path;  // required: the CAs the server's certificate must chain to
  std::string keystore_path;    // optional client certificate (mTLS)
  std::string key_password;
  std::string cipher_list;
  std::string ciphersuites;
};

using TlsContext = std::shared_ptr<ssl_ctx_st>;

// kFileError for an unreadable file, a keystore without a certificate or key,
// a key that does not match the certificate, an empty truststore;
// kInvalidConfig for bad cipher lists or client auth without a truststore.
Result<TlsContext> build_server_tls_context(const TlsServerConfig& config);
// Verifies the peer's chain; callers set the expected host name per
// connection (SSL_set1_host) before the handshake.
Result<TlsContext> build_client_tls_context(const TlsClientConfig& config);

// The current server context, replaced atomically by reload(). Thread-safe.
class TlsContextSlot {
 public:
  static Result<std::unique_ptr<TlsContextSlot>> create(TlsServerConfig config);
  TlsContext current() const;
  // Builds a fresh context from the same files; on failure the old one stays.
  Status reload();

 private:
  TlsContextSlot(TlsServerConfig config, TlsContext ctx)
      : config_(std::move(config)), ctx_(std::move(ctx)) {}
  const TlsServerConfig config_;
  mutable std::mutex mu_;
  TlsContext ctx_;
};

// "User:<RFC 2253 subject>"; kMalformed for a certificate without a subject.
Result<std::string> principal_from_certificate(x509_st* certificate);
// The principal of a connection after its handshake: "User:" + the mapped
// subject of the peer's certificate when one was presented and verified,
// else "User:ANONYMOUS". kAuthenticationFailed when no mapping rule applies
// to the subject (the connection must then be refused, as Kafka does).
Result<std::string> peer_principal(const ssl_st* ssl, const SslPrincipalMapper& mapper);
// The same with the DEFAULT rule (never fails).
std::string peer_principal(const ssl_st* ssl);
// Whether the peer presented a certificate that verified.
bool has_verified_peer_certificate(const ssl_st* ssl);

}  // namespace dmq::security
