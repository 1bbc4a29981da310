#pragma once
// Offsets and admin APIs: ListOffsets, CreateTopics, DeleteTopics, DeleteRecords,
// CreatePartitions, DescribeConfigs, DescribeCluster, InitProducerId,
// OffsetForLeaderEpoch. Same conventions as msg_core.h: requests view the
// frame, responses own their strings, absent fields keep their defaults.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/codec.h"

namespace dmq::kafka {

// ---- ListOffsets (key 2), v0-8 -------------------------------------------------

struct ListOffsetsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kListOffsets;
  // Special timestamps: -1 latest, -2 earliest, -3 max timestamp (v7+).
  struct Partition {
    int32_t partition_index = 0;
    int32_t current_leader_epoch = -1;  // v4+
    int64_t timestamp = -1;
    int32_t max_num_offsets = 1;  // v0 only
  };
  struct Topic {
    std::string_view name;
    std::vector<Partition> partitions;
  };
  int32_t replica_id = -1;
  int8_t isolation_level = 0;  // v2+
  std::vector<Topic> topics;
};

struct ListOffsetsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kListOffsets;
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::kNone;
    int64_t timestamp = -1;
    int64_t offset = -1;
    int32_t leader_epoch = -1;               // v4+
    std::vector<int64_t> old_style_offsets;  // v0 only, instead of timestamp and offset
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v2+
  std::vector<Topic> topics;
};

DMQ_KAFKA_DECLARE_CODEC(ListOffsetsRequest);
DMQ_KAFKA_DECLARE_CODEC(ListOffsetsResponse);

// ---- CreateTopics (key 19), v0-7 ------------------------------------------------

struct CreateTopicsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kCreateTopics;
  struct Assignment {
    int32_t partition_index = 0;
    std::vector<int32_t> broker_ids;
  };
  struct Config {
    std::string_view name;
    std::optional<std::string_view> value;
  };
  struct Topic {
    std::string_view name;
    int32_t num_partitions = -1;      // -1: broker default (v4+, KIP-464)
    int16_t replication_factor = -1;  // -1: broker default
    std::vector<Assignment> assignments;
    std::vector<Config> configs;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 60000;
  bool validate_only = false;
};

struct CreateTopicsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kCreateTopics;
  struct Config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    int8_t config_source = -1;
    bool is_sensitive = false;
  };
  struct Topic {
    std::string name;
    Uuid topic_id;  // v7+
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;    // v1+
    int16_t topic_config_error_code = 0;         // v5+, tag 0
    int32_t num_partitions = -1;                 // v5+
    int16_t replication_factor = -1;             // v5+
    std::optional<std::vector<Config>> configs;  // v5+
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
};

DMQ_KAFKA_DECLARE_CODEC(CreateTopicsRequest);
DMQ_KAFKA_DECLARE_CODEC(CreateTopicsResponse);

// ---- DeleteTopics (key 20), v0-6 ------------------------------------------------

struct DeleteTopicsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteTopics;
  struct Topic {  // v6+
    std::optional<std::string_view> name;
    Uuid topic_id;
  };
  std::vector<Topic> topics;                  // v6+
  std::vector<std::string_view> topic_names;  // v1-5
  int32_t timeout_ms = 0;
};

struct DeleteTopicsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteTopics;
  struct Result {
    std::optional<std::string> name;  // null only v6+
    Uuid topic_id;                    // v6+
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;  // v5+
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> responses;
};

DMQ_KAFKA_DECLARE_CODEC(DeleteTopicsRequest);
DMQ_KAFKA_DECLARE_CODEC(DeleteTopicsResponse);

// ---- DeleteRecords (key 21), v0-2 ------------------------------------------------

struct DeleteRecordsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteRecords;
  struct Partition {
    int32_t partition_index = 0;
    int64_t offset = 0;  // the new log start offset; -1: the high watermark
  };
  struct Topic {
    std::string_view name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 0;
};

struct DeleteRecordsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteRecords;
  struct Partition {
    int32_t partition_index = 0;
    int64_t low_watermark = -1;
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
};

DMQ_KAFKA_DECLARE_CODEC(DeleteRecordsRequest);
DMQ_KAFKA_DECLARE_CODEC(DeleteRecordsResponse);

// ---- CreatePartitions (key 37), v0-3 --------------------------------------------

struct CreatePartitionsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kCreatePartitions;
  struct Assignment {
    std::vector<int32_t> broker_ids;
  };
  struct Topic {
    std::string_view name;
    int32_t count = 0;  // the new total partition count
    std::optional<std::vector<Assignment>> assignments;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 0;
  bool validate_only = false;
};

struct CreatePartitionsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kCreatePartitions;
  struct Result {
    std::string name;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
};

DMQ_KAFKA_DECLARE_CODEC(CreatePartitionsRequest);
DMQ_KAFKA_DECLARE_CODEC(CreatePartitionsResponse);

// ---- DescribeConfigs (key 32), v0-4 ---------------------------------------------

struct DescribeConfigsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeConfigs;
  struct Resource {
    int8_t resource_type = 0;  // 2 topic, 4 broker
    std::string_view resource_name;
    std::optional<std::vector<std::string_view>> configuration_keys;  // null = all
  };
  std::vector<Resource> resources;
  bool include_synonyms = false;       // v1+
  bool include_documentation = false;  // v3+
};

struct DescribeConfigsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeConfigs;
  struct Synonym {
    std::string name;
    std::optional<std::string> value;
    int8_t source = 0;
  };
  struct Config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    int8_t config_source = -1;  // v1+ (1 topic, 4 static broker, 5 default, ...)
    bool is_default = false;    // v0 only, instead of config_source
    bool is_sensitive = false;
    std::vector<Synonym> synonyms;             // v1+
    int8_t config_type = 0;                    // v3+
    std::optional<std::string> documentation;  // v3+
  };
  struct Result {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<Config> configs;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
};

DMQ_KAFKA_DECLARE_CODEC(DescribeConfigsRequest);
DMQ_KAFKA_DECLARE_CODEC(DescribeConfigsResponse);

// ---- DescribeCluster (key 60), v0-1 (always flexible) ---------------------------

struct DescribeClusterRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeCluster;
  bool include_cluster_authorized_operations = false;
  int8_t endpoint_type = 1;  // v1+: 1 brokers, 2 controllers
};

struct DescribeClusterResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeCluster;
  struct Broker {
    int32_t broker_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  int8_t endpoint_type = 1;  // v1+
  std::string cluster_id;
  int32_t controller_id = -1;
  std::vector<Broker> brokers;
  int32_t cluster_authorized_operations = std::numeric_limits<int32_t>::min();
};

DMQ_KAFKA_DECLARE_CODEC(DescribeClusterRequest);
DMQ_KAFKA_DECLARE_CODEC(DescribeClusterResponse);

// ---- InitProducerId (key 22), v0-4 ----------------------------------------------

struct InitProducerIdRequest {
  static constexpr ApiKey kApiKey = ApiKey::kInitProducerId;
  std::optional<std::string_view> transactional_id;  // null: idempotent producer only
  int32_t transaction_timeout_ms = 0;
  int64_t producer_id = -1;     // v3+ (epoch bump of an existing producer)
  int16_t producer_epoch = -1;  // v3+
};

struct InitProducerIdResponse {
  static constexpr ApiKey kApiKey = ApiKey::kInitProducerId;
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

DMQ_KAFKA_DECLARE_CODEC(InitProducerIdRequest);
DMQ_KAFKA_DECLARE_CODEC(InitProducerIdResponse);

// ---- OffsetForLeaderEpoch (key 23), v0-4 -----------------------------------------

struct OffsetForLeaderEpochRequest {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetForLeaderEpoch;
  struct Partition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;
    int32_t leader_epoch = 0;
  };
  struct Topic {
    std::string_view topic;
    std::vector<Partition> partitions;
  };
  int32_t replica_id = -2;  // v3+: follower broker id, -1 consumer, -2 debugging
  std::vector<Topic> topics;
};

struct OffsetForLeaderEpochResponse {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetForLeaderEpoch;
  struct Partition {
    ErrorCode error_code = ErrorCode::kNone;
    int32_t partition = 0;
    int32_t leader_epoch = -1;
    int64_t end_offset = -1;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
};

DMQ_KAFKA_DECLARE_CODEC(OffsetForLeaderEpochRequest);
DMQ_KAFKA_DECLARE_CODEC(OffsetForLeaderEpochResponse);

// ---- AlterConfigs (key 33), v0-2, and IncrementalAlterConfigs (key 44), v0-1 -------
// AlterConfigs replaces a resource's whole set of dynamic configs;
// IncrementalAlterConfigs (KIP-339) changes single keys.

struct AlterConfigsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAlterConfigs;
  struct Config {
    std::string_view name;
    std::optional<std::string_view> value;
  };
  struct Resource {
    int8_t resource_type = 0;  // 2 topic, 4 broker
    std::string_view resource_name;
    std::vector<Config> configs;
  };
  std::vector<Resource> resources;
  bool validate_only = false;
};

struct AlterConfigsResourceResponse {
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  int8_t resource_type = 0;
  std::string resource_name;
};

struct AlterConfigsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kAlterConfigs;
  int32_t throttle_time_ms = 0;
  std::vector<AlterConfigsResourceResponse> responses;
};

struct IncrementalAlterConfigsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kIncrementalAlterConfigs;
  // ConfigOperation: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT (list values).
  struct Config {
    std::string_view name;
    int8_t config_operation = 0;
    std::optional<std::string_view> value;
  };
  struct Resource {
    int8_t resource_type = 0;
    std::string_view resource_name;
    std::vector<Config> configs;
  };
  std::vector<Resource> resources;
  bool validate_only = false;
};

struct IncrementalAlterConfigsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kIncrementalAlterConfigs;
  int32_t throttle_time_ms = 0;
  std::vector<AlterConfigsResourceResponse> responses;
};

DMQ_KAFKA_DECLARE_CODEC(AlterConfigsRequest);
DMQ_KAFKA_DECLARE_CODEC(AlterConfigsResponse);
DMQ_KAFKA_DECLARE_CODEC(IncrementalAlterConfigsRequest);
DMQ_KAFKA_DECLARE_CODEC(IncrementalAlterConfigsResponse);

// ---- error responses ---------------------------------------------------------------

ListOffsetsResponse make_error_response(const ListOffsetsRequest& req, int16_t version,
                                        ErrorCode error);
CreateTopicsResponse make_error_response(const CreateTopicsRequest& req, int16_t version,
                                         ErrorCode error);
DeleteTopicsResponse make_error_response(const DeleteTopicsRequest& req, int16_t version,
                                         ErrorCode error);
CreatePartitionsResponse make_error_response(const CreatePartitionsRequest& req, int16_t version,
                                             ErrorCode error);
DeleteRecordsResponse make_error_response(const DeleteRecordsRequest& req, int16_t version,
                                          ErrorCode error);
DescribeConfigsResponse make_error_response(const DescribeConfigsRequest& req, int16_t version,
                                            ErrorCode error);
DescribeClusterResponse make_error_response(const DescribeClusterRequest& req, int16_t version,
                                            ErrorCode error);
InitProducerIdResponse make_error_response(const InitProducerIdRequest& req, int16_t version,
                                           ErrorCode error);
AlterConfigsResponse make_error_response(const AlterConfigsRequest& req, int16_t version,
                                         ErrorCode error);
IncrementalAlterConfigsResponse make_error_response(const IncrementalAlterConfigsRequest& req,
                                                    int16_t version, ErrorCode error);
OffsetForLeaderEpochResponse make_error_response(const OffsetForLeaderEpochRequest& req,
                                                 int16_t version, ErrorCode error);

}  // namespace dmq::kafka
