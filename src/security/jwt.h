#pragma once
// JSON Web Token validation for SASL/OAUTHBEARER and REST bearer tokens:
// compact JWS (RFC 7515) signed with HS256, RS256 or ES256 (RFC 7518), keys
// from a shared secret, a PEM public key or a JWKS document (RFC 7517), and
// the registered claims of RFC 7519 checked against a JwtValidatorConfig.
//
// Pure: no I/O, no clock (now_ms is passed in). A JwtKeySet is immutable once
// built and may be shared by threads (OpenSSL public keys are safe for
// concurrent verification); reloading a JWKS means building a new set.
// Error messages never contain the token, a key or a claim value.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "security/error.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace dmq::security {

// Bounds on untrusted input; larger input is refused with kTooLarge.
inline constexpr size_t kJwtMaxBytes = 16 * 1024;
inline constexpr size_t kJwksMaxBytes = 1024 * 1024;

enum class JwtAlgorithm { kHs256, kRs256, kEs256 };
std::string_view jwt_algorithm_name(JwtAlgorithm alg);  // "HS256", ...
// Only the three names above; "none" and everything else give nullopt.
std::optional<JwtAlgorithm> parse_jwt_algorithm(std::string_view name);

// One verification key. Its type fixes the one algorithm it verifies, so an
// RS256 key can never check an HS256 MAC (the "alg confusion" attack).
class JwtKey {
 public:
  enum class Type { kHmac, kRsa, kEcP256 };
  // HS256 shared secret, at least 32 bytes (RFC 7518 §3.2).
  static Result<JwtKey> hmac(std::string secret, std::string kid = "");
  // A PEM "PUBLIC KEY": RSA of 2048 to 8192 bits, or EC on P-256.
  static Result<JwtKey> from_public_pem(std::string_view pem, std::string kid = "");
  // JWK members (base64url-decoded): RSA n and e; EC P-256 x and y (32 bytes each).
  static Result<JwtKey> rsa(std::string_view n, std::string_view e, std::string kid = "");
  static Result<JwtKey> ec_p256(std::string_view x, std::string_view y, std::string kid = "");

  Type type() const { return type_; }
  JwtAlgorithm algorithm() const;
  const std::string& kid() const { return kid_; }
  // Checks `signature` over `signing_input`; false on any mismatch.
  bool verify(std::string_view signing_input, std::string_view signature) const;

 private:
  JwtKey(Type type, std::string kid) : type_(type), kid_(std::move(kid)) {}
  Type type_;
  std::string kid_;
  std::string secret_;                       // kHmac
  std::shared_ptr<evp_pkey_st> public_key_;  // kRsa, kEcP256
};

class JwtKeySet {
 public:
  JwtKeySet() = default;
  explicit JwtKeySet(std::vector<JwtKey> keys) : keys_(std::move(keys)) {}
  void add(JwtKey key) { keys_.push_back(std::move(key)); }
  const std::vector<JwtKey>& keys() const { return keys_; }
  // The key for a token's header: by kid when the token names one (kUnknownKey
  // if absent); otherwise the one key that fits `alg` (kUnknownKey when
  // several do). kUnsupportedAlgorithm when the chosen key's type does not fit.
  Result<const JwtKey*> select(JwtAlgorithm alg, std::string_view kid) const;

 private:
  std::vector<JwtKey> keys_;
};

struct JwksParseResult {
  JwtKeySet keys;
  // Keys left out (unknown kty, other curve, use other than "sig", an alg DMQ
  // does not verify, bad members, a repeated kid): one line each, for the log.
  std::vector<std::string> skipped;
};
// kMalformed for a document that is not {"keys":[...]}; kInvalidConfig when
// no usable key remains.
Result<JwksParseResult> parse_jwks(std::string_view json);

struct JwtValidatorConfig {
  std::string expected_issuer;                  // sasl.oauthbearer.expected.issuer; empty: any
  std::vector<std::string> expected_audiences;  // sasl.oauthbearer.expected.audience; empty: any
  std::string principal_claim = "sub";          // sasl.oauthbearer.sub.claim.name
  std::string scope_claim = "scope";            // sasl.oauthbearer.scope.claim.name
  int64_t clock_skew_ms = 30'000;               // sasl.oauthbearer.clock.skew.seconds
};

struct JwtClaims {
  std::string principal;  // the principal claim's value, e.g. "alice" (callers add "User:")
  int64_t expires_at_ms = 0;
  std::optional<int64_t> not_before_ms;
  std::optional<int64_t> issued_at_ms;
  std::vector<std::string> scopes;
};

// The pieces of a compact JWS, base64url-decoded (exposed for tests and fuzzing).
struct JwsParts {
  std::string header_json;
  std::string payload_json;
  std::string signing_input;  // "<header b64>.<payload b64>"
  std::string signature;
};
// kTooLarge over kJwtMaxBytes; kMalformed unless exactly three strict
// base64url segments (the signature may not be empty).
Result<JwsParts> split_jws(std::string_view token);

// Validates a compact JWS token at time now_ms (Unix epoch milliseconds):
// header (alg, kid, no crit), key choice, signature, then claims: exp
// required (expired when now >= exp + skew), nbf (not yet valid when
// now + skew < nbf), iss and aud when configured, the principal claim a
// non-empty string. Each failure has its own ErrorCode.
Result<JwtClaims> validate_jwt(std::string_view token, const JwtKeySet& keys,
                               const JwtValidatorConfig& config, int64_t now_ms);

// Checks only the claims of a payload JSON (the part after the signature
// check); exposed for tests and fuzzing.
Result<JwtClaims> check_jwt_claims(std::string_view payload_json, const JwtValidatorConfig& config,
                                   int64_t now_ms);

}  // namespace dmq::security
