#pragma once
// Partition reassignment and leader election APIs (KIP-455, KIP-460):
// AlterPartitionReassignments, ListPartitionReassignments, ElectLeaders. Same
// conventions as msg_core.h: requests view the frame, responses own their
// strings, absent fields keep their defaults.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/codec.h"

namespace dmq::kafka {

// ---- ElectLeaders (key 43), v0-2 (flexible from v2) -----------------------------

struct ElectLeadersRequest {
  static constexpr ApiKey kApiKey = ApiKey::kElectLeaders;
  struct Topic {
    std::string_view topic;
    std::vector<int32_t> partitions;
  };
  int8_t election_type = 0;  // v1+: 0 preferred, 1 unclean (v0: preferred)
  std::optional<std::vector<Topic>> topic_partitions;  // null: every partition
  int32_t timeout_ms = 60000;
};

struct ElectLeadersResponse {
  static constexpr ApiKey kApiKey = ApiKey::kElectLeaders;
  struct PartitionResult {
    int32_t partition_id = 0;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
  };
  struct Result {
    std::string topic;
    std::vector<PartitionResult> partition_result;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;  // v1+
  std::vector<Result> replica_election_results;
};

DMQ_KAFKA_DECLARE_CODEC(ElectLeadersRequest);
DMQ_KAFKA_DECLARE_CODEC(ElectLeadersResponse);

// ---- AlterPartitionReassignments (key 45), v0 (flexible) ------------------------

struct AlterPartitionReassignmentsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAlterPartitionReassignments;
  struct Partition {
    int32_t partition_index = 0;
    std::optional<std::vector<int32_t>> replicas;  // null: cancel the pending move
  };
  struct Topic {
    std::string_view name;
    std::vector<Partition> partitions;
  };
  int32_t timeout_ms = 60000;
  std::vector<Topic> topics;
};

struct AlterPartitionReassignmentsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kAlterPartitionReassignments;
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::vector<Topic> responses;
};

DMQ_KAFKA_DECLARE_CODEC(AlterPartitionReassignmentsRequest);
DMQ_KAFKA_DECLARE_CODEC(AlterPartitionReassignmentsResponse);

// ---- ListPartitionReassignments (key 46), v0 (flexible) -------------------------

struct ListPartitionReassignmentsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kListPartitionReassignments;
  struct Topic {
    std::string_view name;
    std::vector<int32_t> partition_indexes;
  };
  int32_t timeout_ms = 60000;
  std::optional<std::vector<Topic>> topics;  // null: every ongoing reassignment
};

struct ListPartitionReassignmentsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kListPartitionReassignments;
  struct Partition {
    int32_t partition_index = 0;
    std::vector<int32_t> replicas;
    std::vector<int32_t> adding_replicas;
    std::vector<int32_t> removing_replicas;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::vector<Topic> topics;
};

DMQ_KAFKA_DECLARE_CODEC(ListPartitionReassignmentsRequest);
DMQ_KAFKA_DECLARE_CODEC(ListPartitionReassignmentsResponse);

ElectLeadersResponse make_error_response(const ElectLeadersRequest& req, int16_t version,
                                         ErrorCode error);
AlterPartitionReassignmentsResponse make_error_response(
    const AlterPartitionReassignmentsRequest& req, int16_t version, ErrorCode error);
ListPartitionReassignmentsResponse make_error_response(const ListPartitionReassignmentsRequest& req,
                                                       int16_t version, ErrorCode error);

}  // namespace dmq::kafka
