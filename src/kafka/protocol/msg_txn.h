#pragma once
// Transaction APIs (KIP-98, KIP-664): AddPartitionsToTxn, AddOffsetsToTxn,
// EndTxn, WriteTxnMarkers, TxnOffsetCommit, DescribeTransactions,
// ListTransactions. Same conventions as msg_core.h: requests view the frame,
// responses own their strings, absent fields keep their defaults.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/codec.h"

namespace dmq::kafka {

// ---- AddPartitionsToTxn (key 24), v0-4 ------------------------------------------

struct AddPartitionsToTxnRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAddPartitionsToTxn;
  struct Topic {
    std::string_view name;
    std::vector<int32_t> partitions;
  };
  struct Transaction {  // v4+: batched, sent by brokers (KIP-890)
    std::string_view transactional_id;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    bool verify_only = false;
    std::vector<Topic> topics;
  };
  std::vector<Transaction> transactions;  // v4+
  // v0-3: one transaction.
  std::string_view v3_transactional_id;
  int64_t v3_producer_id = -1;
  int16_t v3_producer_epoch = -1;
  std::vector<Topic> v3_topics;
};

struct AddPartitionsToTxnResponse {
  static constexpr ApiKey kApiKey = ApiKey::kAddPartitionsToTxn;
  struct PartitionResult {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct TopicResult {
    std::string name;
    std::vector<PartitionResult> partitions;
  };
  struct TransactionResult {
    std::string transactional_id;
    std::vector<TopicResult> topics;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;      // v4+
  std::vector<TransactionResult> transactions;  // v4+
  std::vector<TopicResult> v3_topics;           // v0-3
};

DMQ_KAFKA_DECLARE_CODEC(AddPartitionsToTxnRequest);
DMQ_KAFKA_DECLARE_CODEC(AddPartitionsToTxnResponse);

// ---- AddOffsetsToTxn (key 25), v0-3 ---------------------------------------------

struct AddOffsetsToTxnRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAddOffsetsToTxn;
  std::string_view transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::string_view group_id;
};

struct AddOffsetsToTxnResponse {
  static constexpr ApiKey kApiKey = ApiKey::kAddOffsetsToTxn;
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
};

DMQ_KAFKA_DECLARE_CODEC(AddOffsetsToTxnRequest);
DMQ_KAFKA_DECLARE_CODEC(AddOffsetsToTxnResponse);

// ---- EndTxn (key 26), v0-3 ------------------------------------------------------

struct EndTxnRequest {
  static constexpr ApiKey kApiKey = ApiKey::kEndTxn;
  std::string_view transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  bool committed = false;
};

struct EndTxnResponse {
  static constexpr ApiKey kApiKey = ApiKey::kEndTxn;
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
};

DMQ_KAFKA_DECLARE_CODEC(EndTxnRequest);
DMQ_KAFKA_DECLARE_CODEC(EndTxnResponse);

// ---- WriteTxnMarkers (key 27), v0-1 ---------------------------------------------

struct WriteTxnMarkersRequest {
  static constexpr ApiKey kApiKey = ApiKey::kWriteTxnMarkers;
  struct Topic {
    std::string_view name;
    std::vector<int32_t> partitions;
  };
  struct Marker {
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    bool commit = false;  // TransactionResult
    std::vector<Topic> topics;
    int32_t coordinator_epoch = 0;
  };
  std::vector<Marker> markers;
};

struct WriteTxnMarkersResponse {
  static constexpr ApiKey kApiKey = ApiKey::kWriteTxnMarkers;
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  struct Marker {
    int64_t producer_id = -1;
    std::vector<Topic> topics;
  };
  std::vector<Marker> markers;
};

DMQ_KAFKA_DECLARE_CODEC(WriteTxnMarkersRequest);
DMQ_KAFKA_DECLARE_CODEC(WriteTxnMarkersResponse);

// ---- TxnOffsetCommit (key 28), v0-3 ---------------------------------------------

struct TxnOffsetCommitRequest {
  static constexpr ApiKey kApiKey = ApiKey::kTxnOffsetCommit;
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = -1;
    int32_t committed_leader_epoch = -1;  // v2+
    std::optional<std::string_view> committed_metadata;
  };
  struct Topic {
    std::string_view name;
    std::vector<Partition> partitions;
  };
  std::string_view transactional_id;
  std::string_view group_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t generation_id = -1;                         // v3+
  std::string_view member_id;                         // v3+
  std::optional<std::string_view> group_instance_id;  // v3+
  std::vector<Topic> topics;
};

struct TxnOffsetCommitResponse {
  static constexpr ApiKey kApiKey = ApiKey::kTxnOffsetCommit;
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
};

DMQ_KAFKA_DECLARE_CODEC(TxnOffsetCommitRequest);
DMQ_KAFKA_DECLARE_CODEC(TxnOffsetCommitResponse);

// ---- DescribeTransactions (key 65), v0 -------------------------------------------

struct DescribeTransactionsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeTransactions;
  std::vector<std::string_view> transactional_ids;
};

struct DescribeTransactionsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeTransactions;
  struct Topic {
    std::string topic;
    std::vector<int32_t> partitions;
  };
  struct State {
    ErrorCode error_code = ErrorCode::kNone;
    std::string transactional_id;
    std::string transaction_state;
    int32_t transaction_timeout_ms = 0;
    int64_t transaction_start_time_ms = -1;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    std::vector<Topic> topics;
  };
  int32_t throttle_time_ms = 0;
  std::vector<State> transaction_states;
};

DMQ_KAFKA_DECLARE_CODEC(DescribeTransactionsRequest);
DMQ_KAFKA_DECLARE_CODEC(DescribeTransactionsResponse);

// ---- ListTransactions (key 66), v0 -----------------------------------------------

struct ListTransactionsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kListTransactions;
  std::vector<std::string_view> state_filters;
  std::vector<int64_t> producer_id_filters;
};

struct ListTransactionsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kListTransactions;
  struct State {
    std::string transactional_id;
    int64_t producer_id = -1;
    std::string transaction_state;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::vector<std::string> unknown_state_filters;
  std::vector<State> transaction_states;
};

DMQ_KAFKA_DECLARE_CODEC(ListTransactionsRequest);
DMQ_KAFKA_DECLARE_CODEC(ListTransactionsResponse);

AddPartitionsToTxnResponse make_error_response(const AddPartitionsToTxnRequest& req,
                                               int16_t version, ErrorCode error);
AddOffsetsToTxnResponse make_error_response(const AddOffsetsToTxnRequest& req, int16_t version,
                                            ErrorCode error);
EndTxnResponse make_error_response(const EndTxnRequest& req, int16_t version, ErrorCode error);
WriteTxnMarkersResponse make_error_response(const WriteTxnMarkersRequest& req, int16_t version,
                                            ErrorCode error);
TxnOffsetCommitResponse make_error_response(const TxnOffsetCommitRequest& req, int16_t version,
                                            ErrorCode error);
DescribeTransactionsResponse make_error_response(const DescribeTransactionsRequest& req,
                                                 int16_t version, ErrorCode error);
ListTransactionsResponse make_error_response(const ListTransactionsRequest& req, int16_t version,
                                             ErrorCode error);

}  // namespace dmq::kafka
