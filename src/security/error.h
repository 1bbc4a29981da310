#pragma once
// The security subsystem's error values. Callers map them at the edge: a
// Kafka error code (kafka_error_code()), an HTTP status (http_status()) and a
// snake_case JSON code (error_code_name()).
//
// Messages are for operators and clients. They never contain a password, a
// salt, a key, a MAC, a token or any other secret, and they do not quote
// untrusted input (a user name, a claim value), so they are safe to log and
// to send back.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/result.h"

namespace dmq::security {

enum class ErrorCode {
  kMalformed,             // bytes that do not parse (SASL message, token, header, record)
  kTooLarge,              // input above its documented bound
  kAuthenticationFailed,  // wrong password, bad proof, unknown user (never distinguished)
  kUnsupportedMechanism,  // SASL mechanism or SCRAM extension DMQ does not offer
  kIllegalState,          // a SASL message out of order
  kUnsupportedAlgorithm,  // JWT alg outside {HS256, RS256, ES256}, or one that does not fit the key
  kUnknownKey,            // JWT kid not in the key set, or no single candidate key
  kBadSignature,          // JWS signature or request MAC does not verify
  kTokenExpired,          // exp (plus clock skew) is in the past
  kTokenNotYetValid,      // nbf (minus clock skew) is in the future
  kInvalidClaim,          // a required claim missing or of the wrong type
  kWrongIssuer,           // iss differs from the expected issuer
  kWrongAudience,         // aud holds none of the expected audiences
  kStaleTimestamp,        // cluster request timestamp outside the window
  kReplayed,              // cluster request nonce already seen in the window
  kReplayCacheFull,       // too many cluster requests in the window to remember (fail closed)
  kInvalidAcl,            // an ACL binding or filter field that is not valid
  kInvalidConfig,         // a bad option value (listeners, super.users, key set, TLS settings)
  kFileError,             // a file that cannot be read or has unsafe permissions
};

// snake_case name used in JSON error bodies, e.g. "token_expired".
std::string_view error_code_name(ErrorCode code);
// The HTTP status REST answers with: 400, 401, 403, 500 or 503.
int http_status(ErrorCode code);
// The Kafka error code a SASL exchange fails with: SASL_AUTHENTICATION_FAILED
// (58), UNSUPPORTED_SASL_MECHANISM (33), ILLEGAL_SASL_STATE (34), INVALID_REQUEST (42).
int kafka_error_code(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;  // human text without secrets, e.g. "token expired"
};

// A value or an Error.
template <typename T>
using Result = ValueOr<T, Error>;

struct Ok {};
// Success or an Error: `return Ok{};` / `return Error{...};`.
using Status = Result<Ok>;

inline Error make_error(ErrorCode code, std::string message) {
  return {code, std::move(message)};
}

}  // namespace dmq::security
