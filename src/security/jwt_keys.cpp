// JwtKey: building OpenSSL public keys from PEM and JWK members, verifying
// signatures, choosing a key for a token.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "security/crypto.h"
#include "security/jwt.h"

namespace dmq::security {
namespace {

constexpr int kRsaMinBits = 2048;
constexpr int kRsaMaxBits = 8192;

using PkeyPtr = std::shared_ptr<EVP_PKEY>;
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

Error bad_key(std::string what) {
  return make_error(ErrorCode::kInvalidConfig, std::move(what));
}

PkeyPtr own(EVP_PKEY* pkey) {
  return PkeyPtr(pkey, EVP_PKEY_free);
}

// Builds a public key of `type` ("RSA" or "EC") from OSSL parameters.
PkeyPtr pkey_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  return own(pkey);
}

bool public_key_valid(EVP_PKEY* pkey) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
  bool ok = ctx && EVP_PKEY_public_check(ctx) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

bool is_p256(EVP_PKEY* pkey) {
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
      1) {
    return false;
  }
  return std::string_view(name, len) == "prime256v1";
}

Status check_rsa_size(EVP_PKEY* pkey) {
  int bits = EVP_PKEY_get_bits(pkey);
  if (bits < kRsaMinBits || bits > kRsaMaxBits) {
    return bad_key("RSA key must have 2048 to 8192 bits");
  }
  return Ok{};
}

// JWS ES256 signatures are R || S, 32 bytes each (RFC 7518 §3.4); OpenSSL
// verifies the DER ECDSA-Sig-Value.
std::optional<std::string> es256_to_der(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(p, 32, nullptr);
  BIGNUM* s = BN_bin2bn(p + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool digest_verify(EVP_PKEY* pkey, std::string_view input, std::string_view signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace

std::string_view jwt_algorithm_name(JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::kHs256:
      return "HS256";
    case JwtAlgorithm::kRs256:
      return "RS256";
    case JwtAlgorithm::kEs256:
      return "ES256";
  }
  return "?";
}

std::optional<JwtAlgorithm> parse_jwt_algorithm(std::string_view name) {
  if (name == "HS256") return JwtAlgorithm::kHs256;
  if (name == "RS256") return JwtAlgorithm::kRs256;
  if (name == "ES256") return JwtAlgorithm::kEs256;
  return std::nullopt;
}

Result<JwtKey> JwtKey::hmac(std::string secret, std::string kid) {
  if (secret.size() < 32) return bad_key("HS256 secret must be at least 32 bytes");
  JwtKey key(Type::kHmac, std::move(kid));
  key.secret_ = std::move(secret);
  return key;
}

Result<JwtKey> JwtKey::from_public_pem(std::string_view pem, std::string kid) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* raw = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (!raw) return bad_key("not a PEM public key");
  PkeyPtr pkey = own(raw);
  if (EVP_PKEY_get_base_id(raw) == EVP_PKEY_RSA) {
    if (auto s = check_rsa_size(raw); !s) return s.error();
    JwtKey key(Type::kRsa, std::move(kid));
    key.public_key_ = std::move(pkey);
    return key;
  }
  if (EVP_PKEY_get_base_id(raw) == EVP_PKEY_EC && is_p256(raw)) {
    JwtKey key(Type::kEcP256, std::move(kid));
    key.public_key_ = std::move(pkey);
    return key;
  }
  return bad_key("public key must be RSA or EC P-256");
}

Result<JwtKey> JwtKey::rsa(std::string_view n, std::string_view e, std::string kid) {
  if (n.empty() || e.empty() || e.size() > 8 || n.size() > kRsaMaxBits / 8) {
    return bad_key("RSA key members out of range");
  }
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), int(n.size()), nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), int(e.size()), nullptr));
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  bool pushed = bn_n && bn_e && bld &&
                OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get()) &&
                OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  PkeyPtr pkey = pushed ? pkey_from_params("RSA", bld) : nullptr;
  OSSL_PARAM_BLD_free(bld);
  if (!pkey || !BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get())) return bad_key("invalid RSA key");
  if (auto s = check_rsa_size(pkey.get()); !s) return s.error();
  JwtKey key(Type::kRsa, std::move(kid));
  key.public_key_ = std::move(pkey);
  return key;
}

Result<JwtKey> JwtKey::ec_p256(std::string_view x, std::string_view y, std::string kid) {
  if (x.size() != 32 || y.size() != 32) return bad_key("EC P-256 x and y must be 32 bytes");
  std::string point = "\x04" + std::string(x) + std::string(y);  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  bool pushed =
      bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  PkeyPtr pkey = pushed ? pkey_from_params("EC", bld) : nullptr;
  OSSL_PARAM_BLD_free(bld);
  // The point must be on the curve: an off-curve point is an invalid-curve attack.
  if (!pkey || !public_key_valid(pkey.get())) return bad_key("invalid EC P-256 key");
  JwtKey key(Type::kEcP256, std::move(kid));
  key.public_key_ = std::move(pkey);
  return key;
}

JwtAlgorithm JwtKey::algorithm() const {
  switch (type_) {
    case Type::kHmac:
      return JwtAlgorithm::kHs256;
    case Type::kRsa:
      return JwtAlgorithm::kRs256;
    case Type::kEcP256:
      return JwtAlgorithm::kEs256;
  }
  return JwtAlgorithm::kHs256;
}

bool JwtKey::verify(std::string_view signing_input, std::string_view signature) const {
  switch (type_) {
    case Type::kHmac:
      return constant_time_equal(security::hmac(HashAlgorithm::kSha256, secret_, signing_input),
                                 signature);
    case Type::kRsa:
      if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(public_key_.get()))) {
        return false;
      }
      return digest_verify(public_key_.get(), signing_input, signature);
    case Type::kEcP256: {
      auto der = es256_to_der(signature);
      return der && digest_verify(public_key_.get(), signing_input, *der);
    }
  }
  return false;
}

Result<const JwtKey*> JwtKeySet::select(JwtAlgorithm alg, std::string_view kid) const {
  const JwtKey* chosen = nullptr;
  if (!kid.empty()) {
    for (const JwtKey& k : keys_) {
      if (k.kid() == kid) {
        chosen = &k;
        break;
      }
    }
    if (!chosen) return make_error(ErrorCode::kUnknownKey, "token kid is not in the key set");
  } else {
    int fitting = 0;
    for (const JwtKey& k : keys_) {
      if (k.algorithm() == alg) chosen = &k, ++fitting;
    }
    if (fitting > 1) {
      return make_error(ErrorCode::kUnknownKey, "token has no kid and several keys fit its alg");
    }
    if (fitting == 0) {
      return make_error(ErrorCode::kUnsupportedAlgorithm, "no key in the key set fits token alg");
    }
  }
  if (chosen->algorithm() != alg) {
    return make_error(ErrorCode::kUnsupportedAlgorithm, "token alg does not fit the key's type");
  }
  return chosen;
}

}  // namespace dmq::security
