#include "security/oauthbearer.h"

#include <cctype>

#include "security/gs2.h"

namespace dmq::security {
namespace {

Error malformed(std::string what) {
  return make_error(ErrorCode::kMalformed, "invalid OAUTHBEARER client message: " + what);
}

bool is_key(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

bool is_value(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (!ok) return false;
  }
  return true;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// "Bearer <token>": a scheme, one or more spaces, the token.
Status read_auth(std::string_view auth, std::string& token) {
  size_t sp = auth.find(' ');
  if (sp == std::string_view::npos || !iequals(auth.substr(0, sp), "Bearer")) {
    return malformed("auth is not a Bearer credential");
  }
  std::string_view rest = auth.substr(sp);
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  if (!is_token(rest)) return malformed("bad bearer token syntax");
  token = std::string(rest);
  return Ok{};
}

// The "key=value\x01" pairs up to the final "\x01".
Status read_kvpairs(std::string_view kv, OAuthBearerClientResponse& out) {
  bool have_auth = false;
  while (!kv.empty()) {
    size_t end = kv.find('\x01');
    if (end == std::string_view::npos) return malformed("unterminated key-value pair");
    std::string_view pair = kv.substr(0, end);
    kv.remove_prefix(end + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return malformed("key-value pair without '='");
    std::string_view key = pair.substr(0, eq);
    std::string_view value = pair.substr(eq + 1);
    if (!is_key(key) || !is_value(value)) return malformed("bad key or value");
    if (key == "auth") {
      if (have_auth) return malformed("repeated auth");
      have_auth = true;
      if (auto s = read_auth(value, out.token); !s) return s;
    } else if (!out.extensions.emplace(key, value).second) {
      return malformed("repeated extension");
    }
  }
  if (!have_auth) return malformed("auth not specified");
  return Ok{};
}

}  // namespace

Result<OAuthBearerClientResponse> parse_oauthbearer_client_response(std::string_view message) {
  if (message.size() > kOAuthBearerMaxBytes) {
    return make_error(ErrorCode::kTooLarge, "OAUTHBEARER message too large");
  }
  OAuthBearerClientResponse out;
  auto header = read_gs2_header(message, out.authzid);
  if (!header) return header.error();
  if (!message.starts_with("\x01") || !message.ends_with("\x01\x01")) {
    return malformed("bad framing");
  }
  message.remove_prefix(1);
  message.remove_suffix(1);  // the final separator; every pair keeps its own
  if (auto s = read_kvpairs(message, out); !s) return s.error();
  return out;
}

Result<JwtClaims> authenticate_oauthbearer(std::string_view message, const JwtKeySet& keys,
                                           const JwtValidatorConfig& config, int64_t now_ms) {
  auto response = parse_oauthbearer_client_response(message);
  if (!response) return response.error();
  auto claims = validate_jwt(response.value().token, keys, config, now_ms);
  if (!claims) return claims;
  if (!response.value().authzid.empty() && response.value().authzid != claims.value().principal) {
    return make_error(ErrorCode::kAuthenticationFailed,
                      "authorization id differs from the token's principal");
  }
  return claims;
}

std::string oauthbearer_error_challenge() {
  return R"({"status":"invalid_token"})";
}

}  // namespace dmq::security
