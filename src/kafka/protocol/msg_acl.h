#pragma once
// The ACL admin APIs (KIP-11, KIP-290 pattern types): DescribeAcls,
// CreateAcls and DeleteAcls, v0-3 (flexible from v2). v0 has no pattern
// type: it reads and writes as LITERAL (3), as Kafka does. Enumerations stay
// Kafka's int8 codes here (security::ResourceType etc. give them meaning);
// the codec does not judge them. Same conventions as msg_core.h: requests
// view the frame, responses own their strings.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/codec.h"

namespace dmq::kafka {

inline constexpr int8_t kAclPatternLiteral = 3;  // the pattern type of v0

// A DescribeAcls filter and a DeleteAcls filter have the same fields.
struct AclFilterFields {
  int8_t resource_type = 0;
  std::optional<std::string_view> resource_name;
  int8_t pattern_type = kAclPatternLiteral;
  std::optional<std::string_view> principal;
  std::optional<std::string_view> host;
  int8_t operation = 0;
  int8_t permission_type = 0;
};

// ---- DescribeAcls (key 29) -------------------------------------------------------

struct DescribeAclsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeAcls;
  AclFilterFields filter;
};

struct DescribeAclsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeAcls;
  struct Acl {
    std::string principal;
    std::string host;
    int8_t operation = 0;
    int8_t permission_type = 0;
  };
  struct Resource {
    int8_t resource_type = 0;
    std::string resource_name;
    int8_t pattern_type = kAclPatternLiteral;
    std::vector<Acl> acls;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::vector<Resource> resources;
};

DMQ_KAFKA_DECLARE_CODEC(DescribeAclsRequest);
DMQ_KAFKA_DECLARE_CODEC(DescribeAclsResponse);

// ---- CreateAcls (key 30) ---------------------------------------------------------

struct CreateAclsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kCreateAcls;
  struct Creation {
    int8_t resource_type = 0;
    std::string_view resource_name;
    int8_t pattern_type = kAclPatternLiteral;
    std::string_view principal;
    std::string_view host;
    int8_t operation = 0;
    int8_t permission_type = 0;
  };
  std::vector<Creation> creations;
};

struct CreateAclsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kCreateAcls;
  struct Result {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;  // one per creation, in request order
};

DMQ_KAFKA_DECLARE_CODEC(CreateAclsRequest);
DMQ_KAFKA_DECLARE_CODEC(CreateAclsResponse);

// ---- DeleteAcls (key 31) ---------------------------------------------------------

struct DeleteAclsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteAcls;
  std::vector<AclFilterFields> filters;
};

struct DeleteAclsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteAcls;
  struct MatchingAcl {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    int8_t pattern_type = kAclPatternLiteral;
    std::string principal;
    std::string host;
    int8_t operation = 0;
    int8_t permission_type = 0;
  };
  struct FilterResult {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    std::vector<MatchingAcl> matching_acls;
  };
  int32_t throttle_time_ms = 0;
  std::vector<FilterResult> filter_results;  // one per filter, in request order
};

DMQ_KAFKA_DECLARE_CODEC(DeleteAclsRequest);
DMQ_KAFKA_DECLARE_CODEC(DeleteAclsResponse);

DescribeAclsResponse make_error_response(const DescribeAclsRequest& req, int16_t version,
                                         ErrorCode error);
CreateAclsResponse make_error_response(const CreateAclsRequest& req, int16_t version,
                                       ErrorCode error);
DeleteAclsResponse make_error_response(const DeleteAclsRequest& req, int16_t version,
                                       ErrorCode error);

}  // namespace dmq::kafka
