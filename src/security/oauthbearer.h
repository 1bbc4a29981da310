#pragma once
// SASL OAUTHBEARER (RFC 7628), server side, as Kafka's OAuthBearerSaslServer:
// the client's one message carries a bearer JWT, validated with jwt.h.
// Pure; any thread (see jwt.h for key-set sharing).

#include <map>
#include <string>
#include <string_view>

#include "security/error.h"
#include "security/jwt.h"

namespace dmq::security {

inline constexpr size_t kOAuthBearerMaxBytes = kJwtMaxBytes + 4096;

// Kafka's OAuthBearerClientInitialResponse.
struct OAuthBearerClientResponse {
  std::string authzid;  // empty when absent
  std::string token;
  std::map<std::string, std::string> extensions;  // kvpairs other than "auth" (KIP-342)
};

// Parses "n,[a=authzid],\x01auth=Bearer <token>\x01[key=value\x01]*\x01".
// Keys are [A-Za-z]+, values %x21-7E plus space, tab, CR, LF, the scheme is
// "Bearer" in any case, the token [-_.A-Za-z0-9]+. kMalformed otherwise
// (a missing auth pair, a repeated key); kTooLarge over kOAuthBearerMaxBytes.
Result<OAuthBearerClientResponse> parse_oauthbearer_client_response(std::string_view message);

// Parses and validates: the token (validate_jwt) and, when the client names
// an authzid, that it equals the token's principal (Kafka refuses otherwise).
Result<JwtClaims> authenticate_oauthbearer(std::string_view message, const JwtKeySet& keys,
                                           const JwtValidatorConfig& config, int64_t now_ms);

// RFC 7628 §3.2.2: on failure the server answers with this challenge, waits
// for the client's "\x01" and then fails the exchange.
std::string oauthbearer_error_challenge();

}  // namespace dmq::security
