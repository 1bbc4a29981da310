#pragma once
// The cluster subsystem's error values. Each code maps to a REST status and a
// snake_case JSON code (DESIGN.md §3) and, at the Kafka edge, to a Kafka error.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/result.h"

namespace dmq::cluster {

enum class ErrorCode {
  kInvalidTopicName,          // 400
  kInvalidPartitions,         // 400
  kInvalidReplicationFactor,  // 400
  kInvalidConfig,             // 400
  kInvalidRequest,            // 400: a malformed field in a controller request
  kTopicExists,               // 409
  kUnknownTopic,              // 404
  kUnknownPartition,          // 404
  kUnknownBroker,             // 404
  kUnknownUser,               // 404: no SCRAM credential of that user and mechanism
  kNotEnoughBrokers,          // 503: fewer unfenced brokers than needed
  kStaleBrokerEpoch,          // 409: a heartbeat/request from an old registration
  kDuplicateBrokerId,         // 409: another live incarnation holds this id
  kStalePartitionEpoch,       // 409: AlterPartition built on an old partition state
  kNotLeader,                 // 409: AlterPartition from a broker that does not lead
  kInvalidIsr,                // 400: ISR not a subset of replicas, fenced member, ...
  kInvalidReplicaAssignment,  // 400: empty, duplicate or unknown broker in a replica list
  kMalformedRecord,           // bytes that do not decode (disk or network input)
  kCorruptStore,              // LMDB tables that do not decode
};

// snake_case name used in JSON error bodies, e.g. "topic_exists".
std::string_view error_code_name(ErrorCode code);
// The HTTP status the REST layer should answer with.
int error_http_status(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;  // human text, e.g. "replication factor 3 exceeds the 2 available brokers"
};

// A value or an Error.
template <typename T>
using Result = ValueOr<T, Error>;

// Success or an Error.
class Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    DMQ_ASSERT(!ok_);
    return error_;
  }

 private:
  Error error_{ErrorCode::kInvalidRequest, {}};
  bool ok_ = true;
};

}  // namespace dmq::cluster
