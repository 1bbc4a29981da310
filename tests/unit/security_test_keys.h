#pragma once
// Test keys minted with OpenSSL: RSA-2048 and EC P-256 key pairs, JWS
// signing, JWK members, and a JWT minter. Test-only: private keys live here.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "security/crypto.h"

namespace dmq::security::test {

using Pkey = std::shared_ptr<EVP_PKEY>;

inline Pkey make_rsa_key(unsigned bits = 2048) {
  return Pkey(EVP_RSA_gen(bits), EVP_PKEY_free);
}
inline Pkey make_ec_key() {
  return Pkey(EVP_EC_gen("P-256"), EVP_PKEY_free);
}

inline std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("bn param");
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// The uncompressed point 04 || x || y of an EC key.
inline std::string ec_point(EVP_PKEY* key) {
  unsigned char buf[65];
  size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf), &len);
  if (len != 65 || buf[0] != 4) throw std::runtime_error("ec point");
  return std::string(reinterpret_cast<char*>(buf), len);
}

// What `write` puts into a memory BIO, as a string.
template <typename Write>
std::string bio_string(Write write) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

inline std::string public_pem(EVP_PKEY* key) {
  return bio_string([&](BIO* bio) { PEM_write_bio_PUBKEY(bio, key); });
}

inline std::string rsa_jwk(EVP_PKEY* key, const std::string& kid) {
  return R"({"kty":"RSA","kid":")" + kid + R"(","use":"sig","n":")" +
         base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" +
         base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_E)) + R"("})";
}

inline std::string ec_jwk(EVP_PKEY* key, const std::string& kid) {
  std::string p = ec_point(key);
  return R"({"kty":"EC","crv":"P-256","kid":")" + kid + R"(","x":")" +
         base64url_encode(p.substr(1, 32)) + R"(","y":")" + base64url_encode(p.substr(33, 32)) +
         R"("})";
}

// SHA-256 signature; for EC keys converted from DER to JWS's raw r || s.
inline std::string sign(EVP_PKEY* key, const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return sig;
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(ecdsa);
  return raw;
}

// "<b64 header>.<b64 payload>" without a signature.
inline std::string signing_input(const std::string& header, const std::string& payload) {
  return base64url_encode(header) + "." + base64url_encode(payload);
}

inline std::string mint(EVP_PKEY* key, const std::string& header, const std::string& payload) {
  std::string input = signing_input(header, payload);
  return input + "." + base64url_encode(sign(key, input));
}

inline std::string mint_hs256(const std::string& secret, const std::string& header,
                              const std::string& payload) {
  std::string input = signing_input(header, payload);
  return input + "." + base64url_encode(hmac(HashAlgorithm::kSha256, secret, input));
}

}  // namespace dmq::security::test
