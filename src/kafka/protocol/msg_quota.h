#pragma once
// The client quota admin APIs (KIP-546): DescribeClientQuotas and
// AlterClientQuotas, v0-1 (flexible from v1). Entity types and quota keys
// stay strings here (src/quota gives them meaning). Same conventions as
// msg_core.h: requests view the frame, responses own their strings.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/codec.h"

namespace dmq::kafka {

// DescribeClientQuotas filter match types.
inline constexpr int8_t kQuotaMatchExact = 0;
inline constexpr int8_t kQuotaMatchDefault = 1;
inline constexpr int8_t kQuotaMatchAny = 2;

// ---- DescribeClientQuotas (key 48) --------------------------------------------------

struct DescribeClientQuotasRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeClientQuotas;
  struct Component {
    std::string_view entity_type;
    int8_t match_type = kQuotaMatchExact;
    std::optional<std::string_view> match;
  };
  std::vector<Component> components;
  bool strict = false;
};

// One component of an entity: its type and name (null: the default).
struct QuotaEntityData {
  std::string entity_type;
  std::optional<std::string> entity_name;
};

struct DescribeClientQuotasResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeClientQuotas;
  struct Value {
    std::string key;
    double value = 0;
  };
  struct Entry {
    std::vector<QuotaEntityData> entity;
    std::vector<Value> values;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::optional<std::vector<Entry>> entries;
};

DMQ_KAFKA_DECLARE_CODEC(DescribeClientQuotasRequest);
DMQ_KAFKA_DECLARE_CODEC(DescribeClientQuotasResponse);

// ---- AlterClientQuotas (key 49) -----------------------------------------------------

struct AlterClientQuotasRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAlterClientQuotas;
  struct EntityPart {
    std::string_view entity_type;
    std::optional<std::string_view> entity_name;
  };
  struct Op {
    std::string_view key;
    double value = 0;
    bool remove = false;
  };
  struct Entry {
    std::vector<EntityPart> entity;
    std::vector<Op> ops;
  };
  std::vector<Entry> entries;
  bool validate_only = false;
};

struct AlterClientQuotasResponse {
  static constexpr ApiKey kApiKey = ApiKey::kAlterClientQuotas;
  struct Entry {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    std::vector<QuotaEntityData> entity;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Entry> entries;
};

DMQ_KAFKA_DECLARE_CODEC(AlterClientQuotasRequest);
DMQ_KAFKA_DECLARE_CODEC(AlterClientQuotasResponse);

DescribeClientQuotasResponse make_error_response(const DescribeClientQuotasRequest& req,
                                                 int16_t version, ErrorCode error);
AlterClientQuotasResponse make_error_response(const AlterClientQuotasRequest& req, int16_t version,
                                              ErrorCode error);

}  // namespace dmq::kafka
