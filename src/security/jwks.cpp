// JWKS documents (RFC 7517 §5) to a JwtKeySet. Keys DMQ cannot use are left
// out with a reason rather than failing the whole set (RFC 7517 §5: ignore
// keys that are not understood), so one odd key at the identity provider
// does not lock every client out.
#include <set>

#include "security/crypto.h"
#include "security/json_util.h"
#include "security/jwt.h"

namespace dmq::security {
namespace {

std::optional<std::string> b64_member(const rapidjson::Value& jwk, const char* name) {
  auto text = string_member(jwk, name);
  if (!text) return std::nullopt;
  return base64url_decode(*text);
}

// One JWK to a key; an error's message says why it was left out.
Result<JwtKey> key_from_jwk(const rapidjson::Value& jwk) {
  auto skip = [](std::string why) { return make_error(ErrorCode::kInvalidConfig, std::move(why)); };
  if (!jwk.IsObject()) return skip("not an object");
  auto kty = string_member(jwk, "kty");
  if (!kty) return skip("no kty");
  auto use = string_member(jwk, "use");
  if (jwk.HasMember("use") && (!use || *use != "sig")) return skip("use is not sig");
  std::string kid(string_member(jwk, "kid").value_or(""));
  if (jwk.HasMember("kid") && !string_member(jwk, "kid")) return skip("kid is not a string");
  Result<JwtKey> key = skip("unsupported kty");
  if (*kty == "RSA") {
    auto n = b64_member(jwk, "n");
    auto e = b64_member(jwk, "e");
    if (!n || !e) return skip("RSA key without valid n and e");
    key = JwtKey::rsa(*n, *e, kid);
  } else if (*kty == "EC") {
    auto crv = string_member(jwk, "crv");
    if (!crv || *crv != "P-256") return skip("EC curve is not P-256");
    auto x = b64_member(jwk, "x");
    auto y = b64_member(jwk, "y");
    if (!x || !y) return skip("EC key without valid x and y");
    key = JwtKey::ec_p256(*x, *y, kid);
  }
  if (!key) return key;
  if (jwk.HasMember("alg")) {
    auto alg = parse_jwt_algorithm(string_member(jwk, "alg").value_or(""));
    if (!alg || *alg != key.value().algorithm()) return skip("alg does not fit the key");
  }
  return key;
}

}  // namespace

Result<JwksParseResult> parse_jwks(std::string_view json) {
  if (json.size() > kJwksMaxBytes) return make_error(ErrorCode::kTooLarge, "JWKS too large");
  rapidjson::Document doc;
  if (auto s = parse_json_object(json, "JWKS", doc); !s) return s.error();
  auto keys = doc.FindMember("keys");
  if (keys == doc.MemberEnd() || !keys->value.IsArray()) {
    return make_error(ErrorCode::kMalformed, "JWKS has no keys array");
  }
  JwksParseResult out;
  std::set<std::string> kids;
  size_t index = 0;
  for (const auto& jwk : keys->value.GetArray()) {
    auto key = key_from_jwk(jwk);
    std::string where = "JWKS key " + std::to_string(index++) + " skipped: ";
    if (!key) {
      out.skipped.push_back(where + key.error().message);
    } else if (!key.value().kid().empty() && !kids.insert(key.value().kid()).second) {
      out.skipped.push_back(where + "repeated kid");
    } else {
      out.keys.add(std::move(key).value());
    }
  }
  if (out.keys.keys().empty()) {
    return make_error(ErrorCode::kInvalidConfig, "JWKS holds no usable key");
  }
  return out;
}

}  // namespace dmq::security
