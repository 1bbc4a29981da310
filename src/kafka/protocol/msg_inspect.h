#pragma once
// Inspection APIs an operator's admin client asks a broker about its own
// replicas: DescribeLogDirs (KIP-113, v0-4) and DescribeProducers (KIP-664,
// v0). Same conventions as msg_core.h: requests view the frame, responses own
// their strings, absent fields keep their defaults.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/codec.h"

namespace dmq::kafka {

// ---- DescribeLogDirs (key 35), v0-4 (flexible from v2) ---------------------------

struct DescribeLogDirsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeLogDirs;
  struct Topic {
    std::string_view topic;
    std::vector<int32_t> partitions;
  };
  std::optional<std::vector<Topic>> topics;  // null: every partition of every topic
};

struct DescribeLogDirsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeLogDirs;
  struct Partition {
    int32_t partition_index = 0;
    int64_t partition_size = 0;  // bytes of the partition's log segments
    int64_t offset_lag = 0;
    bool is_future_key = false;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  struct Result {
    ErrorCode error_code = ErrorCode::kNone;
    std::string log_dir;
    std::vector<Topic> topics;
    int64_t total_bytes = -1;   // v4+
    int64_t usable_bytes = -1;  // v4+
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;  // v3+
  std::vector<Result> results;
};

DMQ_KAFKA_DECLARE_CODEC(DescribeLogDirsRequest);
DMQ_KAFKA_DECLARE_CODEC(DescribeLogDirsResponse);

// ---- DescribeProducers (key 61), v0 (always flexible) -----------------------------

struct DescribeProducersRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeProducers;
  struct Topic {
    std::string_view name;
    std::vector<int32_t> partition_indexes;
  };
  std::vector<Topic> topics;
};

struct DescribeProducersResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeProducers;
  struct Producer {
    int64_t producer_id = -1;
    int32_t producer_epoch = -1;
    int32_t last_sequence = -1;
    int64_t last_timestamp = -1;
    int32_t coordinator_epoch = -1;
    int64_t current_txn_start_offset = -1;
  };
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    std::vector<Producer> active_producers;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
};

DMQ_KAFKA_DECLARE_CODEC(DescribeProducersRequest);
DMQ_KAFKA_DECLARE_CODEC(DescribeProducersResponse);

DescribeLogDirsResponse make_error_response(const DescribeLogDirsRequest& req, int16_t version,
                                            ErrorCode error);
DescribeProducersResponse make_error_response(const DescribeProducersRequest& req, int16_t version,
                                              ErrorCode error);

}  // namespace dmq::kafka
