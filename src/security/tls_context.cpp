// OpenSSL context building and certificate principals (the file-reading part
// of the subsystem; everything else in src/security is pure).
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "security/tls.h"

namespace dmq::security {
namespace {

// OpenSSL's reason for the last failure (no data strings: they could hold
// file contents); clears the error queue.
std::string openssl_reason() {
  unsigned long e = ERR_peek_last_error();
  const char* reason = e ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown OpenSSL error";
}

Error file_error(std::string_view option, const std::string& path, const std::string& why) {
  return make_error(ErrorCode::kFileError, std::string(option) + " " + path + ": " + why);
}

Status check_readable(std::string_view option, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return file_error(option, path, std::strerror(errno));
  std::fclose(f);
  return Ok{};
}

Status load_keystore(SSL_CTX* ctx, const std::string& path, const std::string& password) {
  constexpr std::string_view kOption = "ssl.keystore.location";
  if (auto s = check_readable(kOption, path); !s) return s;
  if (SSL_CTX_use_certificate_chain_file(ctx, path.c_str()) != 1) {
    return file_error(kOption, path, "no usable certificate chain: " + openssl_reason());
  }
  // PEM's default callback takes the userdata as the password.
  SSL_CTX_set_default_passwd_cb_userdata(ctx, const_cast<char*>(password.c_str()));
  int rc = SSL_CTX_use_PrivateKey_file(ctx, path.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
  if (rc != 1) return file_error(kOption, path, "no usable private key: " + openssl_reason());
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return file_error(kOption, path, "private key does not match the certificate");
  }
  return Ok{};
}

Status load_truststore(SSL_CTX* ctx, const std::string& path, bool for_client_auth) {
  constexpr std::string_view kOption = "ssl.truststore.location";
  if (auto s = check_readable(kOption, path); !s) return s;
  if (SSL_CTX_load_verify_locations(ctx, path.c_str(), nullptr) != 1) {
    return file_error(kOption, path, "no CA certificates: " + openssl_reason());
  }
  if (for_client_auth) {
    // Tell clients which CAs their certificate must come from.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(path.c_str());
    if (!names) return file_error(kOption, path, "no CA certificates");
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  return Ok{};
}

Status apply_common(SSL_CTX* ctx, const std::string& cipher_list, const std::string& suites) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!cipher_list.empty() && SSL_CTX_set_cipher_list(ctx, cipher_list.c_str()) != 1) {
    ERR_clear_error();
    return make_error(ErrorCode::kInvalidConfig, "ssl.cipher.suites selects no TLS 1.2 cipher");
  }
  if (!suites.empty() && SSL_CTX_set_ciphersuites(ctx, suites.c_str()) != 1) {
    ERR_clear_error();
    return make_error(ErrorCode::kInvalidConfig, "TLS 1.3 ciphersuites list is not valid");
  }
  return Ok{};
}

TlsContext new_context(const SSL_METHOD* method) {
  return TlsContext(SSL_CTX_new(method), SSL_CTX_free);
}

}  // namespace

std::optional<ClientAuth> parse_client_auth(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "none") return ClientAuth::kNone;
  if (lower == "requested") return ClientAuth::kRequested;
  if (lower == "required") return ClientAuth::kRequired;
  return std::nullopt;
}

Result<TlsContext> build_server_tls_context(const TlsServerConfig& config) {
  if (config.keystore_path.empty()) {
    return make_error(ErrorCode::kInvalidConfig, "ssl.keystore.location is required for TLS");
  }
  bool verify = config.client_auth != ClientAuth::kNone;
  if (verify && config.truststore_path.empty()) {
    return make_error(ErrorCode::kInvalidConfig,
                      "ssl.client.auth requested/required needs ssl.truststore.location");
  }
  TlsContext ctx = new_context(TLS_server_method());
  DMQ_ASSERT(ctx != nullptr);
  if (auto s = apply_common(ctx.get(), config.cipher_list, config.ciphersuites); !s) {
    return s.error();
  }
  if (auto s = load_keystore(ctx.get(), config.keystore_path, config.key_password); !s) {
    return s.error();
  }
  if (!config.truststore_path.empty()) {
    if (auto s = load_truststore(ctx.get(), config.truststore_path, verify); !s) return s.error();
  }
  int mode = SSL_VERIFY_NONE;
  if (config.client_auth == ClientAuth::kRequested) mode = SSL_VERIFY_PEER;
  if (config.client_auth == ClientAuth::kRequired) {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  // Session resumption with client certificates needs an id context.
  static const unsigned char kSessionContext[] = "dmq";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof(kSessionContext) - 1);
  return ctx;
}

Result<TlsContext> build_client_tls_context(const TlsClientConfig& config) {
  if (config.truststore_path.empty()) {
    return make_error(ErrorCode::kInvalidConfig, "ssl.truststore.location is required");
  }
  TlsContext ctx = new_context(TLS_client_method());
  DMQ_ASSERT(ctx != nullptr);
  if (auto s = apply_common(ctx.get(), config.cipher_list, config.ciphersuites); !s) {
    return s.error();
  }
  if (auto s = load_truststore(ctx.get(), config.truststore_path, false); !s) return s.error();
  if (!config.keystore_path.empty()) {
    if (auto s = load_keystore(ctx.get(), config.keystore_path, config.key_password); !s) {
      return s.error();
    }
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

Result<std::unique_ptr<TlsContextSlot>> TlsContextSlot::create(TlsServerConfig config) {
  auto ctx = build_server_tls_context(config);
  if (!ctx) return ctx.error();
  return std::unique_ptr<TlsContextSlot>(
      new TlsContextSlot(std::move(config), std::move(ctx).value()));
}

TlsContext TlsContextSlot::current() const {
  std::lock_guard lock(mu_);
  return ctx_;
}

Status TlsContextSlot::reload() {
  auto fresh = build_server_tls_context(config_);
  if (!fresh) return fresh.error();
  std::lock_guard lock(mu_);
  ctx_ = std::move(fresh).value();
  return Ok{};
}

Result<std::string> principal_from_certificate(X509* certificate) {
  X509_NAME* subject = certificate ? X509_get_subject_name(certificate) : nullptr;
  BIO* bio = BIO_new(BIO_s_mem());
  DMQ_ASSERT(bio != nullptr);
  // RFC 2253 without escaping multi-byte UTF-8, as Java prints it.
  int rc =
      subject ? X509_NAME_print_ex(bio, subject, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) : -1;
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string dn = rc >= 0 && len > 0 ? std::string(data, static_cast<size_t>(len)) : "";
  BIO_free(bio);
  if (dn.empty()) return make_error(ErrorCode::kMalformed, "certificate has no subject");
  return "User:" + dn;
}

bool has_verified_peer_certificate(const SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  return cert != nullptr && SSL_get_verify_result(ssl) == X509_V_OK;
}

Result<std::string> peer_principal(const SSL* ssl, const SslPrincipalMapper& mapper) {
  if (!has_verified_peer_certificate(ssl)) return std::string("User:ANONYMOUS");
  auto principal = principal_from_certificate(SSL_get0_peer_certificate(ssl));
  if (!principal) return std::string("User:ANONYMOUS");
  constexpr std::string_view kUser = "User:";
  auto name = mapper.name_of(std::string_view(principal.value()).substr(kUser.size()));
  if (!name) return name.error();
  return std::string(kUser) + name.value();
}

std::string peer_principal(const SSL* ssl) {
  static const SslPrincipalMapper kDefault = SslPrincipalMapper::parse("DEFAULT").value();
  return peer_principal(ssl, kDefault).value();
}

}  // namespace dmq::security
