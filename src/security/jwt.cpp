// Compact JWS parsing and JWT claim checks (RFC 7515 §7.1, RFC 7519 §4.1).
#include <cmath>

#include "security/crypto.h"
#include "security/json_util.h"
#include "security/jwt.h"

namespace dmq::security {
namespace {

Error malformed(std::string what) {
  return make_error(ErrorCode::kMalformed, std::move(what));
}
Error bad_claim(std::string what) {
  return make_error(ErrorCode::kInvalidClaim, std::move(what));
}

// A NumericDate (seconds, maybe fractional) as milliseconds; nullopt when the
// member is absent. kInvalidClaim when it is not a sane number.
Result<std::optional<int64_t>> numeric_date_ms(const rapidjson::Value& payload, const char* name) {
  auto it = payload.FindMember(name);
  if (it == payload.MemberEnd()) return std::optional<int64_t>{};
  if (!it->value.IsNumber()) return bad_claim(std::string(name) + " claim is not a number");
  double seconds = it->value.GetDouble();
  // Up to year ~2286e3: far beyond any real token, far below int64 overflow.
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e13) {
    return bad_claim(std::string(name) + " claim is out of range");
  }
  return std::optional<int64_t>{static_cast<int64_t>(seconds * 1000.0)};
}

Status check_audience(const rapidjson::Value& payload, const std::vector<std::string>& expected) {
  if (expected.empty()) return Ok{};
  auto it = payload.FindMember("aud");
  std::vector<std::string_view> audiences;
  if (it != payload.MemberEnd() && it->value.IsString()) {
    audiences.emplace_back(it->value.GetString(), it->value.GetStringLength());
  } else if (it != payload.MemberEnd() && it->value.IsArray()) {
    for (const auto& a : it->value.GetArray()) {
      if (!a.IsString()) return bad_claim("aud claim holds a non-string");
      audiences.emplace_back(a.GetString(), a.GetStringLength());
    }
  } else if (it != payload.MemberEnd()) {
    return bad_claim("aud claim is neither a string nor an array");
  }
  for (std::string_view a : audiences) {
    for (const std::string& e : expected) {
      if (a == e) return Ok{};
    }
  }
  return make_error(ErrorCode::kWrongAudience, "token audience is not an expected audience");
}

// A space-separated string (RFC 8693 §4.2) or an array of strings.
Result<std::vector<std::string>> scopes_of(const rapidjson::Value& payload,
                                           const std::string& name) {
  std::vector<std::string> scopes;
  auto it = payload.FindMember(name.c_str());
  if (it == payload.MemberEnd()) return scopes;
  if (it->value.IsString()) {
    std::string_view s(it->value.GetString(), it->value.GetStringLength());
    while (!s.empty()) {
      size_t sp = s.find(' ');
      if (sp != 0) scopes.emplace_back(s.substr(0, sp));
      s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
    }
    return scopes;
  }
  if (!it->value.IsArray()) return bad_claim("scope claim is neither a string nor an array");
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) return bad_claim("scope claim holds a non-string");
    scopes.emplace_back(v.GetString(), v.GetStringLength());
  }
  return scopes;
}

Status check_times(const JwtClaims& claims, const JwtValidatorConfig& config, int64_t now_ms) {
  // jose4j's rule, as Kafka uses it: expired on or after exp + skew.
  if (now_ms >= claims.expires_at_ms + config.clock_skew_ms) {
    return make_error(ErrorCode::kTokenExpired, "token expired");
  }
  if (claims.not_before_ms && now_ms + config.clock_skew_ms < *claims.not_before_ms) {
    return make_error(ErrorCode::kTokenNotYetValid, "token not yet valid (nbf)");
  }
  return Ok{};
}

Result<JwtClaims> read_claims(const rapidjson::Value& payload, const JwtValidatorConfig& config) {
  JwtClaims claims;
  auto exp = numeric_date_ms(payload, "exp");
  auto nbf = numeric_date_ms(payload, "nbf");
  auto iat = numeric_date_ms(payload, "iat");
  if (!exp) return exp.error();
  if (!nbf) return nbf.error();
  if (!iat) return iat.error();
  if (!exp.value()) return bad_claim("exp claim is required");
  claims.expires_at_ms = *exp.value();
  claims.not_before_ms = nbf.value();
  claims.issued_at_ms = iat.value();
  auto principal = string_member(payload, config.principal_claim.c_str());
  if (!principal || principal->empty()) {
    return bad_claim("principal claim is missing or not a non-empty string");
  }
  claims.principal = std::string(*principal);
  auto scopes = scopes_of(payload, config.scope_claim);
  if (!scopes) return scopes.error();
  claims.scopes = std::move(scopes).value();
  return claims;
}

// The header's alg and kid; refuses "crit" (RFC 7515 §4.1.11: DMQ
// understands no extension, so it must reject any it is told is critical).
Result<std::pair<JwtAlgorithm, std::string>> read_header(std::string_view header_json) {
  rapidjson::Document header;
  if (auto s = parse_json_object(header_json, "JWT header", header); !s) return s.error();
  if (header.HasMember("crit")) return malformed("JWT crit header is not supported");
  auto alg_name = string_member(header, "alg");
  if (!alg_name) return malformed("JWT header has no alg");
  auto alg = parse_jwt_algorithm(*alg_name);
  if (!alg) {
    return make_error(ErrorCode::kUnsupportedAlgorithm, "JWT alg must be HS256, RS256 or ES256");
  }
  if (header.HasMember("kid") && !string_member(header, "kid")) {
    return malformed("JWT kid is not a string");
  }
  return std::pair{*alg, std::string(string_member(header, "kid").value_or(""))};
}

}  // namespace

Result<JwsParts> split_jws(std::string_view token) {
  if (token.size() > kJwtMaxBytes) return make_error(ErrorCode::kTooLarge, "token too large");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return malformed("token is not a compact JWS (three segments)");
  }
  auto header = base64url_decode(token.substr(0, dot1));
  auto payload = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header || !payload || !signature) return malformed("token segment is not base64url");
  if (signature->empty()) return malformed("token is unsigned");
  return JwsParts{std::move(*header), std::move(*payload), std::string(token.substr(0, dot2)),
                  std::move(*signature)};
}

Result<JwtClaims> check_jwt_claims(std::string_view payload_json, const JwtValidatorConfig& config,
                                   int64_t now_ms) {
  rapidjson::Document payload;
  if (auto s = parse_json_object(payload_json, "JWT payload", payload); !s) return s.error();
  auto claims = read_claims(payload, config);
  if (!claims) return claims;
  if (auto s = check_times(claims.value(), config, now_ms); !s) return s.error();
  if (!config.expected_issuer.empty()) {
    auto iss = string_member(payload, "iss");
    if (!iss || *iss != config.expected_issuer) {
      return make_error(ErrorCode::kWrongIssuer, "token issuer is not the expected issuer");
    }
  }
  if (auto s = check_audience(payload, config.expected_audiences); !s) return s.error();
  return claims;
}

Result<JwtClaims> validate_jwt(std::string_view token, const JwtKeySet& keys,
                               const JwtValidatorConfig& config, int64_t now_ms) {
  auto parts = split_jws(token);
  if (!parts) return parts.error();
  auto header = read_header(parts.value().header_json);
  if (!header) return header.error();
  auto key = keys.select(header.value().first, header.value().second);
  if (!key) return key.error();
  // The signature is checked before any claim is read, so nothing in an
  // unauthenticated payload influences the answer beyond "bad signature".
  if (!key.value()->verify(parts.value().signing_input, parts.value().signature)) {
    return make_error(ErrorCode::kBadSignature, "token signature does not verify");
  }
  return check_jwt_claims(parts.value().payload_json, config, now_ms);
}

}  // namespace dmq::security
