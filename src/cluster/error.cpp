#include "cluster/error.h"

namespace dmq::cluster {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidTopicName:
      return "invalid_topic_name";
    case ErrorCode::kInvalidPartitions:
      return "invalid_partitions";
    case ErrorCode::kInvalidReplicationFactor:
      return "invalid_replication_factor";
    case ErrorCode::kInvalidConfig:
      return "invalid_config";
    case ErrorCode::kInvalidRequest:
      return "invalid_request";
    case ErrorCode::kTopicExists:
      return "topic_exists";
    case ErrorCode::kUnknownTopic:
      return "unknown_topic";
    case ErrorCode::kUnknownPartition:
      return "unknown_partition";
    case ErrorCode::kUnknownBroker:
      return "unknown_broker";
    case ErrorCode::kUnknownUser:
      return "unknown_user";
    case ErrorCode::kNotEnoughBrokers:
      return "not_enough_brokers";
    case ErrorCode::kStaleBrokerEpoch:
      return "stale_broker_epoch";
    case ErrorCode::kDuplicateBrokerId:
      return "duplicate_broker_id";
    case ErrorCode::kStalePartitionEpoch:
      return "stale_partition_epoch";
    case ErrorCode::kNotLeader:
      return "not_leader";
    case ErrorCode::kInvalidIsr:
      return "invalid_isr";
    case ErrorCode::kInvalidReplicaAssignment:
      return "invalid_replica_assignment";
    case ErrorCode::kMalformedRecord:
      return "malformed_record";
    case ErrorCode::kCorruptStore:
      return "corrupt_store";
  }
  return "internal_error";
}

int error_http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidTopicName:
    case ErrorCode::kInvalidPartitions:
    case ErrorCode::kInvalidReplicationFactor:
    case ErrorCode::kInvalidConfig:
    case ErrorCode::kInvalidRequest:
    case ErrorCode::kInvalidIsr:
    case ErrorCode::kInvalidReplicaAssignment:
    case ErrorCode::kMalformedRecord:
      return 400;
    case ErrorCode::kUnknownTopic:
    case ErrorCode::kUnknownPartition:
    case ErrorCode::kUnknownBroker:
    case ErrorCode::kUnknownUser:
      return 404;
    case ErrorCode::kTopicExists:
    case ErrorCode::kStaleBrokerEpoch:
    case ErrorCode::kDuplicateBrokerId:
    case ErrorCode::kStalePartitionEpoch:
    case ErrorCode::kNotLeader:
      return 409;
    case ErrorCode::kNotEnoughBrokers:
      return 503;
    case ErrorCode::kCorruptStore:
      return 500;
  }
  return 500;
}

}  // namespace dmq::cluster
