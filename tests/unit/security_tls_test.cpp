#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "security/tls.h"
#include "security_test_keys.h"

using namespace dmq::security;
using namespace dmq::security::test;

namespace {

using Cert = std::shared_ptr<X509>;

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` with subject O=DMQ Test, CN=cn signed by the
// issuer (self-signed when issuer is null).
Cert make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  Cert cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ca ? 1 : 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("DMQ Test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_ext(cert.get(), signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (!ca) add_ext(cert.get(), signer, NID_subject_alt_name, "DNS:localhost");
  X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

std::string pem_of(X509* cert) {
  return bio_string([&](BIO* bio) { PEM_write_bio_X509(bio, cert); });
}

std::string key_pem(EVP_PKEY* key, const char* password = nullptr) {
  return bio_string([&](BIO* bio) {
    PEM_write_bio_PrivateKey(bio, key, password ? EVP_aes_256_cbc() : nullptr, nullptr, 0, nullptr,
                             const_cast<char*>(password));
  });
}

std::string write_file(const std::string& name, const std::string& contents) {
  std::string path = "/tmp/dmq-tls-test-" + std::to_string(getpid()) + "-" + name;
  std::ofstream(path) << contents;
  return path;
}

struct Pki {
  Pkey ca_key = make_ec_key();
  Cert ca = make_cert(ca_key.get(), "DMQ Test CA", nullptr, nullptr, true);
  Pkey server_key = make_ec_key();
  Cert server = make_cert(server_key.get(), "broker1", ca.get(), ca_key.get(), false);
  Pkey client_key = make_ec_key();
  Cert client = make_cert(client_key.get(), "alice", ca.get(), ca_key.get(), false);
  std::string truststore = write_file("ca.pem", pem_of(ca.get()));
  std::string server_keystore =
      write_file("server.pem", pem_of(server.get()) + pem_of(ca.get()) + key_pem(server_key.get()));
  std::string client_keystore =
      write_file("client.pem", pem_of(client.get()) + key_pem(client_key.get()));
};
const Pki& pki() {
  static Pki p;
  return p;
}

// Runs a handshake over a memory BIO pair; returns the server-side principal.
std::string handshake(const TlsContext& server, const TlsContext& client, bool* ok) {
  SSL* s = SSL_new(server.get());
  SSL* c = SSL_new(client.get());
  BIO* sb = nullptr;
  BIO* cb = nullptr;
  BIO_new_bio_pair(&sb, 0, &cb, 0);
  SSL_set_bio(s, sb, sb);
  SSL_set_bio(c, cb, cb);
  SSL_set_accept_state(s);
  SSL_set_connect_state(c);
  SSL_set1_host(c, "localhost");
  int rs = 0, rc = 0;
  for (int i = 0; i < 20 && (rs != 1 || rc != 1); ++i) {
    rc = SSL_do_handshake(c);
    rs = SSL_do_handshake(s);
  }
  *ok = rs == 1 && rc == 1;
  std::string principal = peer_principal(s);
  SSL_free(s);
  SSL_free(c);
  ERR_clear_error();
  return principal;
}

}  // namespace

TEST_CASE("TLS server and client contexts handshake; mTLS gives the RFC 2253 principal") {
  TlsServerConfig sc{pki().server_keystore, "", pki().truststore, ClientAuth::kRequired, "", ""};
  auto server = build_server_tls_context(sc);
  REQUIRE(server.ok());
  auto client = build_client_tls_context({pki().truststore, pki().client_keystore, "", "", ""});
  REQUIRE(client.ok());
  bool ok = false;
  CHECK(handshake(server.value(), client.value(), &ok) == "User:CN=alice,O=DMQ Test");
  CHECK(ok);
  CHECK(SSL_CTX_get_min_proto_version(server.value().get()) == TLS1_2_VERSION);

  // Required client auth: a client without a certificate fails.
  auto anonymous = build_client_tls_context({pki().truststore, "", "", "", ""});
  REQUIRE(anonymous.ok());
  handshake(server.value(), anonymous.value(), &ok);
  CHECK_FALSE(ok);
  // Requested: it connects as ANONYMOUS.
  sc.client_auth = ClientAuth::kRequested;
  bool ok2 = false;
  CHECK(handshake(build_server_tls_context(sc).value(), anonymous.value(), &ok2) ==
        "User:ANONYMOUS");
  CHECK(ok2);
}

TEST_CASE("TLS context errors name the file and the reason, never key material") {
  auto missing =
      build_server_tls_context({"/nonexistent/ks.pem", "", "", ClientAuth::kNone, "", ""});
  CHECK(missing.error().code == ErrorCode::kFileError);
  CHECK(missing.error().message.find("/nonexistent/ks.pem") != std::string::npos);
  CHECK(missing.error().message.find("ssl.keystore.location") != std::string::npos);

  std::string key_only = write_file("keyonly.pem", key_pem(pki().server_key.get()));
  auto no_cert = build_server_tls_context({key_only, "", "", ClientAuth::kNone, "", ""});
  CHECK(no_cert.error().code == ErrorCode::kFileError);
  std::string mismatch =
      write_file("mismatch.pem", pem_of(pki().server.get()) + key_pem(pki().client_key.get()));
  auto wrong_key = build_server_tls_context({mismatch, "", "", ClientAuth::kNone, "", ""});
  REQUIRE_FALSE(wrong_key.ok());
  CHECK(wrong_key.error().code == ErrorCode::kFileError);
  CHECK(wrong_key.error().message.find("private key") != std::string::npos);
  CHECK(wrong_key.error().message.find("PRIVATE") == std::string::npos);

  CHECK(build_server_tls_context({pki().server_keystore, "", "", ClientAuth::kRequired, "", ""})
            .error()
            .code == ErrorCode::kInvalidConfig);
  CHECK(build_server_tls_context(
            {pki().server_keystore, "", "", ClientAuth::kNone, "NO-SUCH-CIPHER", ""})
            .error()
            .code == ErrorCode::kInvalidConfig);
  CHECK(build_server_tls_context({pki().server_keystore, "", "", ClientAuth::kNone,
                                  "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"})
            .ok());
  std::string empty_ca = write_file("empty-ca.pem", "");
  CHECK(build_client_tls_context({empty_ca, "", "", "", ""}).error().code == ErrorCode::kFileError);
  for (const auto& p : {key_only, mismatch, empty_ca}) std::remove(p.c_str());
}

TEST_CASE("an encrypted keystore key needs its password; reload swaps or keeps the context") {
  std::string enc = write_file(
      "enc.pem", pem_of(pki().server.get()) + key_pem(pki().server_key.get(), "hunter22"));
  TlsServerConfig config{enc, "hunter22", "", ClientAuth::kNone, "", ""};
  auto slot = TlsContextSlot::create(config);
  REQUIRE(slot.ok());
  TlsContext first = slot.value()->current();
  REQUIRE(slot.value()->reload().ok());
  CHECK(slot.value()->current() != first);
  std::remove(enc.c_str());
  auto failed = slot.value()->reload();
  CHECK_FALSE(failed.ok());
  CHECK(slot.value()->current() != nullptr);  // the old context stays

  std::string enc2 = write_file(
      "enc2.pem", pem_of(pki().server.get()) + key_pem(pki().server_key.get(), "hunter22"));
  auto wrong = build_server_tls_context({enc2, "wrong-password", "", ClientAuth::kNone, "", ""});
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("wrong-password") == std::string::npos);
  std::remove(enc2.c_str());
}

TEST_CASE("ssl.client.auth names") {
  CHECK(parse_client_auth("required") == ClientAuth::kRequired);
  CHECK(parse_client_auth("Requested") == ClientAuth::kRequested);
  CHECK(parse_client_auth("none") == ClientAuth::kNone);
  CHECK_FALSE(parse_client_auth("optional"));
}
