#pragma once
// ApiVersions, Metadata, Produce and Fetch: request and response structs and
// their codecs. Field names follow the Kafka schemas (snake_case); a field
// absent from a version keeps its default. Wire integers stay plain ints here:
// the codec mirrors the schema, handlers convert to DMQ's domain types.
//
// Request structs hold string_views into the decoded frame (no copies on the
// produce path); the frame must outlive them. Response structs own their
// strings, except Records, which borrow (see io.h).

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/codec.h"

namespace dmq::kafka {

// ---- ApiVersions (key 18), v0-3 -------------------------------------------

struct ApiVersionsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kApiVersions;
  std::string_view client_software_name;     // v3+
  std::string_view client_software_version;  // v3+
};

struct ApiVersionsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kApiVersions;
  struct ApiVersion {
    int16_t api_key = 0;
    int16_t min_version = 0;
    int16_t max_version = 0;
  };
  struct SupportedFeature {
    std::string name;
    int16_t min_version = 0;
    int16_t max_version = 0;
  };
  struct FinalizedFeature {
    std::string name;
    int16_t max_version_level = 0;
    int16_t min_version_level = 0;
  };
  ErrorCode error_code = ErrorCode::kNone;
  std::vector<ApiVersion> api_keys;
  int32_t throttle_time_ms = 0;                      // v1+
  std::vector<SupportedFeature> supported_features;  // v3+, tag 0
  int64_t finalized_features_epoch = -1;             // v3+, tag 1
  std::vector<FinalizedFeature> finalized_features;  // v3+, tag 2
  bool zk_migration_ready = false;                   // v3+, tag 3
};

DMQ_KAFKA_DECLARE_CODEC(ApiVersionsRequest);
DMQ_KAFKA_DECLARE_CODEC(ApiVersionsResponse);

// The ApiVersions answer listing every API in api.h.
ApiVersionsResponse make_api_versions_response();

// KIP-511: ApiVersions v3 client software name and version must match
// [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?; otherwise Kafka answers
// INVALID_REQUEST (librdkafka then retries with v0).
bool valid_client_software_field(std::string_view s);

// ---- Metadata (key 3), v0-12 ------------------------------------------------

struct MetadataRequest {
  static constexpr ApiKey kApiKey = ApiKey::kMetadata;
  struct Topic {
    Uuid topic_id;                         // v10+
    std::optional<std::string_view> name;  // null only v10+ (lookup by id)
  };
  // v1+: null = all topics, empty = none (brokers only).
  // v0: never null on the wire; empty means all topics (decoded as empty).
  std::optional<std::vector<Topic>> topics;
  bool allow_auto_topic_creation = true;               // v4+; v0-3 mean true
  bool include_cluster_authorized_operations = false;  // v8-10
  bool include_topic_authorized_operations = false;    // v8+
};

struct MetadataResponse {
  static constexpr ApiKey kApiKey = ApiKey::kMetadata;
  struct Broker {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;  // v1+
  };
  struct Partition {
    ErrorCode error_code = ErrorCode::kNone;
    int32_t partition_index = 0;
    int32_t leader_id = -1;
    int32_t leader_epoch = -1;  // v7+
    std::vector<int32_t> replica_nodes;
    std::vector<int32_t> isr_nodes;
    std::vector<int32_t> offline_replicas;  // v5+
  };
  struct Topic {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> name;  // null only v12+
    Uuid topic_id;                    // v10+
    bool is_internal = false;         // v1+
    std::vector<Partition> partitions;
    int32_t topic_authorized_operations = std::numeric_limits<int32_t>::min();  // v8+
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Broker> brokers;
  std::optional<std::string> cluster_id;  // v2+
  int32_t controller_id = -1;             // v1+
  std::vector<Topic> topics;
  int32_t cluster_authorized_operations = std::numeric_limits<int32_t>::min();  // v8-10
};

DMQ_KAFKA_DECLARE_CODEC(MetadataRequest);
DMQ_KAFKA_DECLARE_CODEC(MetadataResponse);

// ---- Produce (key 0), v3-9 ---------------------------------------------------

struct ProduceRequest {
  static constexpr ApiKey kApiKey = ApiKey::kProduce;
  struct Partition {
    int32_t index = 0;
    Records records;  // views the request frame; validate with record_batch.h
  };
  struct Topic {
    std::string_view name;
    std::vector<Partition> partitions;
  };
  std::optional<std::string_view> transactional_id;
  int16_t acks = -1;  // 0: the broker sends no response at all
  int32_t timeout_ms = 0;
  std::vector<Topic> topics;
};

struct ProduceResponse {
  static constexpr ApiKey kApiKey = ApiKey::kProduce;
  struct RecordError {
    int32_t batch_index = 0;
    std::optional<std::string> batch_index_error_message;
  };
  struct Partition {
    int32_t index = 0;
    ErrorCode error_code = ErrorCode::kNone;
    int64_t base_offset = -1;
    int64_t log_append_time_ms = -1;           // v2+
    int64_t log_start_offset = -1;             // v5+
    std::vector<RecordError> record_errors;    // v8+
    std::optional<std::string> error_message;  // v8+
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
  int32_t throttle_time_ms = 0;
};

DMQ_KAFKA_DECLARE_CODEC(ProduceRequest);
DMQ_KAFKA_DECLARE_CODEC(ProduceResponse);

// ---- Fetch (key 1), v4-12 ------------------------------------------------------

struct FetchRequest {
  static constexpr ApiKey kApiKey = ApiKey::kFetch;
  struct Partition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;  // v9+
    int64_t fetch_offset = 0;
    int32_t last_fetched_epoch = -1;  // v12+
    int64_t log_start_offset = -1;    // v5+ (followers only)
    int32_t partition_max_bytes = 0;
  };
  struct Topic {
    std::string_view topic;  // v0-12
    std::vector<Partition> partitions;
    Uuid topic_id;  // v13+, instead of the name
  };
  struct ForgottenTopic {
    std::string_view topic;  // v7-12
    std::vector<int32_t> partitions;
    Uuid topic_id;  // v13+
  };
  std::optional<std::string_view> cluster_id;  // v12+, tag 0
  int32_t replica_id = -1;     // broker id of a follower; -1 for consumers (v15+: tag 1)
  int64_t replica_epoch = -1;  // v15+, tag 1 (KIP-903)
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = std::numeric_limits<int32_t>::max();
  int8_t isolation_level = 0;  // 0 read_uncommitted, 1 read_committed
  int32_t session_id = 0;      // v7+
  int32_t session_epoch = -1;  // v7+
  std::vector<Topic> topics;
  std::vector<ForgottenTopic> forgotten_topics_data;  // v7+
  std::string_view rack_id;                           // v11+
};

struct FetchResponse {
  static constexpr ApiKey kApiKey = ApiKey::kFetch;
  struct AbortedTransaction {
    int64_t producer_id = 0;
    int64_t first_offset = 0;
  };
  struct EpochEndOffset {
    int32_t epoch = -1;
    int64_t end_offset = -1;
    bool is_default() const { return epoch == -1 && end_offset == -1; }
  };
  struct LeaderIdAndEpoch {
    int32_t leader_id = -1;
    int32_t leader_epoch = -1;
    bool is_default() const { return leader_id == -1 && leader_epoch == -1; }
  };
  struct SnapshotId {
    int64_t end_offset = -1;
    int32_t epoch = -1;
    bool is_default() const { return end_offset == -1 && epoch == -1; }
  };
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::kNone;
    int64_t high_watermark = -1;
    int64_t last_stable_offset = -1;  // v4+
    int64_t log_start_offset = -1;    // v5+
    EpochEndOffset diverging_epoch;   // v12+, tag 0 (KIP-595 truncation)
    LeaderIdAndEpoch current_leader;  // v12+, tag 1
    SnapshotId snapshot_id;           // v12+, tag 2
    std::optional<std::vector<AbortedTransaction>> aborted_transactions;  // v4+
    int32_t preferred_read_replica = -1;                                  // v11+
    Records records;  // borrowed bytes, or Records::external() for sendfile
  };
  struct Topic {
    std::string topic;  // v0-12
    std::vector<Partition> partitions;
    Uuid topic_id;  // v13+, instead of the name
  };
  int32_t throttle_time_ms = 0;             // v1+
  ErrorCode error_code = ErrorCode::kNone;  // v7+
  int32_t session_id = 0;                   // v7+
  std::vector<Topic> responses;
};

DMQ_KAFKA_DECLARE_CODEC(FetchRequest);
DMQ_KAFKA_DECLARE_CODEC(FetchResponse);

// ---- error responses (AbstractRequest.getErrorResponse) -----------------------
// Each answers every topic/partition of the request with `error`.

ApiVersionsResponse make_error_response(const ApiVersionsRequest& req, int16_t version,
                                        ErrorCode error);
MetadataResponse make_error_response(const MetadataRequest& req, int16_t version, ErrorCode error);
ProduceResponse make_error_response(const ProduceRequest& req, int16_t version, ErrorCode error);
FetchResponse make_error_response(const FetchRequest& req, int16_t version, ErrorCode error);

}  // namespace dmq::kafka
