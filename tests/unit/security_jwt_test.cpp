#include <doctest/doctest.h>

#include "security/jwt.h"
#include "security/oauthbearer.h"
#include "security_test_keys.h"

using namespace dmq::security;
using namespace dmq::security::test;

namespace {

constexpr int64_t kNowS = 1'700'000'000;
constexpr int64_t kNowMs = kNowS * 1000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-shared";

struct Keys {
  Pkey rsa = make_rsa_key();
  Pkey ec = make_ec_key();
  JwtKeySet set =
      parse_jwks(R"({"keys":[)" + rsa_jwk(rsa.get(), "r1") + "," + ec_jwk(ec.get(), "e1") + "]}")
          .value()
          .keys;
};
const Keys& keys() {
  static Keys k;
  return k;
}

std::string claims(int64_t exp_s = kNowS + 600, std::string extra = "") {
  return R"({"sub":"alice","exp":)" + std::to_string(exp_s) + extra + "}";
}

Result<JwtClaims> validate(const std::string& token, JwtValidatorConfig config = {}) {
  return validate_jwt(token, keys().set, config, kNowMs);
}

ErrorCode code_of(const std::string& token, JwtValidatorConfig config = {}) {
  auto r = validate(token, config);
  REQUIRE_FALSE(r.ok());
  if (!token.empty()) CHECK(r.error().message.find(token) == std::string::npos);
  return r.error().code;
}

}  // namespace

TEST_CASE("RFC 7515 A.1: the HS256 example verifies with its key") {
  std::string k = *base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  JwtKeySet set({JwtKey::hmac(k).value()});
  JwtValidatorConfig config;
  config.principal_claim = "iss";
  config.clock_skew_ms = 0;
  auto ok = validate_jwt(token, set, config, 1300819379000);
  REQUIRE(ok.ok());
  CHECK(ok.value().principal == "joe");
  CHECK(ok.value().expires_at_ms == 1300819380000);
  CHECK(validate_jwt(token, set, config, 1300819380000).error().code == ErrorCode::kTokenExpired);
}

TEST_CASE("RS256 and ES256 tokens from a JWKS verify, by kid and without one") {
  auto rs = validate(mint(keys().rsa.get(), R"({"alg":"RS256","kid":"r1"})",
                          claims(kNowS + 600, R"(,"scope":"read  write")")));
  REQUIRE(rs.ok());
  CHECK(rs.value().principal == "alice");
  CHECK(rs.value().scopes == std::vector<std::string>{"read", "write"});
  CHECK(validate(mint(keys().ec.get(), R"({"alg":"ES256","kid":"e1"})", claims())).ok());
  // One key per alg in the set: no kid needed.
  CHECK(validate(mint(keys().ec.get(), R"({"alg":"ES256","typ":"JWT"})", claims())).ok());
  CHECK(validate(mint(keys().rsa.get(), R"({"alg":"RS256"})", claims())).ok());
  // A PEM public key works too.
  JwtKeySet pem({JwtKey::from_public_pem(public_pem(keys().ec.get())).value()});
  CHECK(validate_jwt(mint(keys().ec.get(), R"({"alg":"ES256"})", claims()), pem, {}, kNowMs).ok());
}

TEST_CASE("JWT refusals: alg none, unknown alg, alg confusion, unknown kid") {
  std::string none = signing_input(R"({"alg":"none"})", claims()) + ".";
  CHECK(code_of(none) == ErrorCode::kMalformed);  // unsigned
  CHECK(code_of(signing_input(R"({"alg":"none"})", claims()) + ".AAAA") ==
        ErrorCode::kUnsupportedAlgorithm);
  CHECK(code_of(mint(keys().rsa.get(), R"({"alg":"RS512"})", claims())) ==
        ErrorCode::kUnsupportedAlgorithm);
  // HS256 "signed" with the RSA public key's PEM as the HMAC secret.
  std::string pem = public_pem(keys().rsa.get());
  CHECK(code_of(mint_hs256(pem, R"({"alg":"HS256","kid":"r1"})", claims())) ==
        ErrorCode::kUnsupportedAlgorithm);
  CHECK(code_of(mint_hs256(pem, R"({"alg":"HS256"})", claims())) ==
        ErrorCode::kUnsupportedAlgorithm);
  // An ES256 token naming the RSA key.
  CHECK(code_of(mint(keys().ec.get(), R"({"alg":"ES256","kid":"r1"})", claims())) ==
        ErrorCode::kUnsupportedAlgorithm);
  CHECK(code_of(mint(keys().rsa.get(), R"({"alg":"RS256","kid":"zz"})", claims())) ==
        ErrorCode::kUnknownKey);
  // Two keys fit and the token names neither.
  JwtKeySet two({JwtKey::hmac(kSecret, "a").value(), JwtKey::hmac(kSecret + "2", "b").value()});
  CHECK(validate_jwt(mint_hs256(kSecret, R"({"alg":"HS256"})", claims()), two, {}, kNowMs)
            .error()
            .code == ErrorCode::kUnknownKey);
  CHECK(validate_jwt(mint_hs256(kSecret, R"({"alg":"HS256","kid":"a"})", claims()), two, {}, kNowMs)
            .ok());
  CHECK(code_of(mint(keys().rsa.get(), R"({"alg":"RS256","crit":["exp"]})", claims())) ==
        ErrorCode::kMalformed);
}

TEST_CASE("JWT refusals: bad signature, tampered payload, malformed segments, oversize") {
  std::string good = mint(keys().rsa.get(), R"({"alg":"RS256"})", claims());
  std::string bad_sig = good;
  bad_sig[bad_sig.size() - 5] = bad_sig[bad_sig.size() - 5] == 'A' ? 'B' : 'A';
  CHECK(code_of(bad_sig) == ErrorCode::kBadSignature);
  std::string other_payload = base64url_encode(R"({"sub":"admin","exp":9999999999})");
  size_t d1 = good.find('.');
  size_t d2 = good.rfind('.');
  CHECK(code_of(good.substr(0, d1 + 1) + other_payload + good.substr(d2)) ==
        ErrorCode::kBadSignature);
  std::string es = mint(keys().ec.get(), R"({"alg":"ES256"})", claims());
  CHECK(code_of(es.substr(0, es.rfind('.') + 1) + base64url_encode(std::string(63, 'x'))) ==
        ErrorCode::kBadSignature);
  CHECK(code_of(es.substr(0, es.rfind('.') + 1) + base64url_encode(std::string(64, '\0'))) ==
        ErrorCode::kBadSignature);
  CHECK(code_of(good + "=") == ErrorCode::kMalformed);
  CHECK(code_of(good.substr(0, d1) + "+" + good.substr(d1)) == ErrorCode::kMalformed);
  CHECK(code_of(good.substr(0, d2)) == ErrorCode::kMalformed);
  CHECK(code_of(good + ".x") == ErrorCode::kMalformed);
  CHECK(code_of("") == ErrorCode::kMalformed);
  CHECK(code_of(mint(keys().rsa.get(), R"({"alg":"RS256","alg":"HS256"})", claims())) ==
        ErrorCode::kMalformed);
  CHECK(code_of(mint(keys().rsa.get(), R"(["alg","RS256"])", claims())) == ErrorCode::kMalformed);
  CHECK(code_of(mint(keys().rsa.get(), R"({"alg":"RS256"})",
                     claims(kNowS + 600, ",\"pad\":\"" + std::string(kJwtMaxBytes, 'p') + "\""))) ==
        ErrorCode::kTooLarge);
}

TEST_CASE("JWT claims: exp, nbf, skew, iss, aud, principal claim") {
  auto token = [](std::string payload) {
    return mint(keys().rsa.get(), R"({"alg":"RS256"})", payload);
  };
  CHECK(code_of(token(R"({"sub":"alice"})")) == ErrorCode::kInvalidClaim);
  CHECK(code_of(token(R"({"sub":"alice","exp":"soon"})")) == ErrorCode::kInvalidClaim);
  CHECK(code_of(token(claims(kNowS - 31))) == ErrorCode::kTokenExpired);
  CHECK(validate(token(claims(kNowS - 29))).ok());  // within the 30 s skew
  JwtValidatorConfig strict;
  strict.clock_skew_ms = 0;
  CHECK(code_of(token(claims(kNowS)), strict) == ErrorCode::kTokenExpired);
  CHECK(code_of(token(claims(kNowS + 600, ",\"nbf\":" + std::to_string(kNowS + 31)))) ==
        ErrorCode::kTokenNotYetValid);
  CHECK(validate(token(claims(kNowS + 600, ",\"nbf\":" + std::to_string(kNowS + 29)))).ok());
  CHECK(code_of(token(R"({"exp":1800000000})")) == ErrorCode::kInvalidClaim);
  CHECK(code_of(token(R"({"sub":"","exp":1800000000})")) == ErrorCode::kInvalidClaim);

  JwtValidatorConfig config;
  config.expected_issuer = "https://idp.example";
  config.expected_audiences = {"dmq", "kafka"};
  config.principal_claim = "client_id";
  std::string base = R"({"client_id":"svc","exp":1800000000,"iss":"https://idp.example")";
  CHECK(validate(token(base + R"(,"aud":"kafka"})"), config).value().principal == "svc");
  CHECK(validate(token(base + R"(,"aud":["x","dmq"]})"), config).ok());
  CHECK(code_of(token(base + R"(,"aud":["x","y"]})"), config) == ErrorCode::kWrongAudience);
  CHECK(code_of(token(base + "}"), config) == ErrorCode::kWrongAudience);
  CHECK(code_of(token(base + R"(,"aud":7})"), config) == ErrorCode::kInvalidClaim);
  CHECK(code_of(token(R"({"client_id":"svc","exp":1800000000,"iss":"evil","aud":"dmq"})"),
                config) == ErrorCode::kWrongIssuer);
  CHECK(code_of(token(R"({"client_id":"svc","exp":1800000000,"aud":"dmq"})"), config) ==
        ErrorCode::kWrongIssuer);
}

TEST_CASE("JWT keys: weak or malformed keys are refused") {
  CHECK(JwtKey::hmac("short").error().code == ErrorCode::kInvalidConfig);
  Pkey small = make_rsa_key(1024);
  CHECK_FALSE(JwtKey::from_public_pem(public_pem(small.get())).ok());
  CHECK_FALSE(JwtKey::from_public_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END").ok());
  std::string p = ec_point(keys().ec.get());
  std::string y = p.substr(33, 32);
  y[31] ^= 1;  // off the curve
  CHECK_FALSE(JwtKey::ec_p256(p.substr(1, 32), y).ok());
  CHECK_FALSE(JwtKey::ec_p256(p.substr(1, 31), p.substr(33, 32)).ok());
  CHECK_FALSE(JwtKey::rsa(std::string(256, '\xff'), std::string("\x01\x00", 2)).ok());
}

TEST_CASE("JWKS parsing keeps usable keys and says why it skipped the others") {
  std::string doc =
      R"({"keys":[)" + rsa_jwk(keys().rsa.get(), "r1") + "," + R"({"kty":"oct","k":"AAAA"},)" +
      R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA"},)" +
      R"({"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},)" +
      R"({"kty":"RSA","n":"!!","e":"AQAB"},)" + rsa_jwk(keys().rsa.get(), "r1") + "]}";
  auto parsed = parse_jwks(doc);
  REQUIRE(parsed.ok());
  CHECK(parsed.value().keys.keys().size() == 1);
  CHECK(parsed.value().skipped.size() == 5);
  CHECK(parse_jwks(R"({"keys":[{"kty":"oct","k":"AAAA"}]})").error().code ==
        ErrorCode::kInvalidConfig);
  CHECK(parse_jwks(R"({"keys":{}})").error().code == ErrorCode::kMalformed);
  CHECK(parse_jwks("[]").error().code == ErrorCode::kMalformed);
  CHECK(parse_jwks("{").error().code == ErrorCode::kMalformed);
  std::string alg_mismatch = rsa_jwk(keys().rsa.get(), "r2");
  alg_mismatch.insert(1, R"("alg":"ES256",)");
  CHECK_FALSE(parse_jwks(R"({"keys":[)" + alg_mismatch + "]}").ok());
}

TEST_CASE("OAUTHBEARER client response parsing (RFC 7628, Kafka's extensions)") {
  auto r = parse_oauthbearer_client_response(
      "n,,\x01"
      "auth=Bearer abc.def-_.x\x01\x01");
  REQUIRE(r.ok());
  CHECK(r.value().token == "abc.def-_.x");
  CHECK(r.value().authzid.empty());
  auto ext = parse_oauthbearer_client_response(
      "n,a=alice,\x01"
      "traceId=t 1\x01"
      "auth=bearer   tok\x01\x01");
  REQUIRE(ext.ok());
  CHECK(ext.value().authzid == "alice");
  CHECK(ext.value().token == "tok");
  CHECK(ext.value().extensions.at("traceId") == "t 1");
  for (std::string bad : {std::string(""), std::string("n,,\x01\x01"),
                          std::string("n,,\x01"
                                      "auth=Bearer t\x01"),
                          std::string("n,,\x01"
                                      "auth=Basic t\x01\x01"),
                          std::string("n,,\x01"
                                      "auth=Bearer t=\x01\x01"),
                          std::string("n,,\x01"
                                      "auth=Bearer\x01\x01"),
                          std::string("n,,\x01"
                                      "auth=Bearer t\x01"
                                      "auth=Bearer u\x01\x01"),
                          std::string("n,,\x01"
                                      "k1=v\x01"
                                      "auth=Bearer t\x01\x01"),
                          std::string("n,,\x01"
                                      "auth=Bearer t\x01"
                                      "x\x01\x01"),
                          std::string("n,a=,\x01"
                                      "auth=Bearer t\x01\x01")}) {
    CAPTURE(bad);
    CHECK(parse_oauthbearer_client_response(bad).error().code == ErrorCode::kMalformed);
  }
  CHECK(
      parse_oauthbearer_client_response(std::string(kOAuthBearerMaxBytes + 1, 'n')).error().code ==
      ErrorCode::kTooLarge);
}

TEST_CASE("OAUTHBEARER authentication validates the token and the authzid") {
  std::string token = mint(keys().rsa.get(), R"({"alg":"RS256"})", claims());
  auto msg = [&](std::string authzid) {
    return "n," + authzid +
           ",\x01"
           "auth=Bearer " +
           token + "\x01\x01";
  };
  CHECK(authenticate_oauthbearer(msg(""), keys().set, {}, kNowMs).value().principal == "alice");
  CHECK(authenticate_oauthbearer(msg("a=alice"), keys().set, {}, kNowMs).ok());
  CHECK(authenticate_oauthbearer(msg("a=bob"), keys().set, {}, kNowMs).error().code ==
        ErrorCode::kAuthenticationFailed);
  CHECK(authenticate_oauthbearer(msg(""), keys().set, {}, kNowMs + 3'600'000).error().code ==
        ErrorCode::kTokenExpired);
  CHECK(oauthbearer_error_challenge() == R"({"status":"invalid_token"})");
}
