#pragma once
// The authentication APIs: SaslHandshake, SaslAuthenticate (KIP-43, KIP-152,
// KIP-368) and the SCRAM credential admin APIs DescribeUserScramCredentials
// and AlterUserScramCredentials (KIP-554). Same conventions as msg_core.h:
// requests view the frame, responses own their strings.
//
// SASL tokens carry secrets (a PLAIN password, a bearer token): nothing here
// logs them, and handlers must not either.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/codec.h"

namespace dmq::kafka {

// ---- SaslHandshake (key 17), v0-1 ----------------------------------------------
// v0: the SASL tokens that follow travel as bare size-prefixed frames (what
// kafka-python 2.0.2 does); v1: inside SaslAuthenticate requests.

struct SaslHandshakeRequest {
  static constexpr ApiKey kApiKey = ApiKey::kSaslHandshake;
  std::string_view mechanism;
};

struct SaslHandshakeResponse {
  static constexpr ApiKey kApiKey = ApiKey::kSaslHandshake;
  ErrorCode error_code = ErrorCode::kNone;
  std::vector<std::string> mechanisms;
};

DMQ_KAFKA_DECLARE_CODEC(SaslHandshakeRequest);
DMQ_KAFKA_DECLARE_CODEC(SaslHandshakeResponse);

// ---- SaslAuthenticate (key 36), v0-2 -------------------------------------------

struct SaslAuthenticateRequest {
  static constexpr ApiKey kApiKey = ApiKey::kSaslAuthenticate;
  std::string_view auth_bytes;
};

struct SaslAuthenticateResponse {
  static constexpr ApiKey kApiKey = ApiKey::kSaslAuthenticate;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::string auth_bytes;
  int64_t session_lifetime_ms = 0;  // v1+ (KIP-368); 0: no re-authentication required
};

DMQ_KAFKA_DECLARE_CODEC(SaslAuthenticateRequest);
DMQ_KAFKA_DECLARE_CODEC(SaslAuthenticateResponse);

// ---- DescribeUserScramCredentials (key 50), v0 (flexible) ----------------------
// Mechanism codes (Kafka's ScramMechanism): 0 unknown, 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.

struct DescribeUserScramCredentialsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeUserScramCredentials;
  struct User {
    std::string_view name;
  };
  std::optional<std::vector<User>> users;  // null or empty: every user
};

struct DescribeUserScramCredentialsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeUserScramCredentials;
  struct CredentialInfo {
    int8_t mechanism = 0;
    int32_t iterations = 0;
  };
  struct Result {
    std::string user;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    std::vector<CredentialInfo> credential_infos;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::vector<Result> results;
};

DMQ_KAFKA_DECLARE_CODEC(DescribeUserScramCredentialsRequest);
DMQ_KAFKA_DECLARE_CODEC(DescribeUserScramCredentialsResponse);

// ---- AlterUserScramCredentials (key 51), v0 (flexible) -------------------------

struct AlterUserScramCredentialsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAlterUserScramCredentials;
  struct Deletion {
    std::string_view name;
    int8_t mechanism = 0;
  };
  struct Upsertion {
    std::string_view name;
    int8_t mechanism = 0;
    int32_t iterations = 0;
    std::string_view salt;
    std::string_view salted_password;  // the client's PBKDF2 output, never the password
  };
  std::vector<Deletion> deletions;
  std::vector<Upsertion> upsertions;
};

struct AlterUserScramCredentialsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kAlterUserScramCredentials;
  struct Result {
    std::string user;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
};

DMQ_KAFKA_DECLARE_CODEC(AlterUserScramCredentialsRequest);
DMQ_KAFKA_DECLARE_CODEC(AlterUserScramCredentialsResponse);

SaslHandshakeResponse make_error_response(const SaslHandshakeRequest& req, int16_t version,
                                          ErrorCode error);
SaslAuthenticateResponse make_error_response(const SaslAuthenticateRequest& req, int16_t version,
                                             ErrorCode error);
DescribeUserScramCredentialsResponse make_error_response(
    const DescribeUserScramCredentialsRequest& req, int16_t version, ErrorCode error);
AlterUserScramCredentialsResponse make_error_response(const AlterUserScramCredentialsRequest& req,
                                                      int16_t version, ErrorCode error);

}  // namespace dmq::kafka
