#include "security/error.h"

namespace dmq::security {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kAuthenticationFailed:
      return "authentication_failed";
    case ErrorCode::kUnsupportedMechanism:
      return "unsupported_mechanism";
    case ErrorCode::kIllegalState:
      return "illegal_state";
    case ErrorCode::kUnsupportedAlgorithm:
      return "unsupported_algorithm";
    case ErrorCode::kUnknownKey:
      return "unknown_key";
    case ErrorCode::kBadSignature:
      return "bad_signature";
    case ErrorCode::kTokenExpired:
      return "token_expired";
    case ErrorCode::kTokenNotYetValid:
      return "token_not_yet_valid";
    case ErrorCode::kInvalidClaim:
      return "invalid_claim";
    case ErrorCode::kWrongIssuer:
      return "wrong_issuer";
    case ErrorCode::kWrongAudience:
      return "wrong_audience";
    case ErrorCode::kStaleTimestamp:
      return "stale_timestamp";
    case ErrorCode::kReplayed:
      return "replayed";
    case ErrorCode::kReplayCacheFull:
      return "replay_cache_full";
    case ErrorCode::kInvalidAcl:
      return "invalid_acl";
    case ErrorCode::kInvalidConfig:
      return "invalid_config";
    case ErrorCode::kFileError:
      return "file_error";
  }
  return "unknown";
}

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed:
    case ErrorCode::kTooLarge:
    case ErrorCode::kInvalidAcl:
      return 400;
    case ErrorCode::kReplayCacheFull:
      return 503;
    case ErrorCode::kInvalidConfig:
    case ErrorCode::kFileError:
      return 500;
    default:
      // Every authentication failure is a 401: the REST layer must not tell a
      // bad signature from an expired token in the status (the JSON code
      // tells the legitimate client what to fix).
      return 401;
  }
}

int kafka_error_code(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnsupportedMechanism:
      return 33;  // UNSUPPORTED_SASL_MECHANISM
    case ErrorCode::kIllegalState:
      return 34;  // ILLEGAL_SASL_STATE
    case ErrorCode::kInvalidAcl:
    case ErrorCode::kInvalidConfig:
      return 42;  // INVALID_REQUEST
    default:
      return 58;  // SASL_AUTHENTICATION_FAILED
  }
}

}  // namespace dmq::security
