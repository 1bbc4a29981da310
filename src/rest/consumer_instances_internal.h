#pragma once
// Private to ConsumerInstances (consumer_instances.cpp, consumer_membership.cpp,
// consumer_reads.cpp): the instance record, the protocol constants, the
// error mapping.

#include <map>
#include <string>
#include <vector>

#include "kafka/protocol/error_code.h"
#include "rest/consumer_instances.h"

namespace dmq::rest {

inline constexpr int kTickMs = 250;
inline constexpr int64_t kHeartbeatIntervalMs = 1000;
// A member that stops heartbeating (its node died) is removed after this; the
// instances themselves never miss a heartbeat while their node runs.
inline constexpr int32_t kSessionTimeoutMs = 10000;
// How long the coordinator waits for every member to rejoin; HTTP instances
// rejoin within a tick, Kafka clients within their own poll interval.
inline constexpr int32_t kRebalanceTimeoutMs = 30000;
inline constexpr int16_t kJoinVersion = 5;
inline constexpr int16_t kSyncVersion = 3;
inline constexpr int16_t kHeartbeatVersion = 3;
inline constexpr int16_t kLeaveVersion = 3;
inline constexpr int16_t kCommitVersion = 7;
inline constexpr int16_t kFetchOffsetsVersion = 7;

inline net::HttpResponse coordinator_error(kafka::ErrorCode e, const std::string& what) {
  const bool rebalancing = e == kafka::ErrorCode::kRebalanceInProgress ||
                           e == kafka::ErrorCode::kIllegalGeneration ||
                           e == kafka::ErrorCode::kUnknownMemberId;
  if (rebalancing)
    return net::json_error(409, "rebalance_in_progress",
                           what + ": the group is rebalancing; poll again, then retry");
  return net::json_error(503, "coordinator_not_available",
                         what + ": " + std::string(kafka::error_name(e)) + "; retry");
}

struct ConsumerInstances::Instance {
  Key key;
  uint64_t incarnation = 0;
  ConsumerSettings settings;
  std::vector<std::string> topics;  // empty: not subscribed
  std::string member_id;
  int32_t generation = -1;
  enum class Phase { kOut, kJoining, kStable } phase = Phase::kOut;
  std::vector<group::TopicPartition> assigned;
  std::map<group::TopicPartition, int64_t> positions;  // next offset to return
  std::map<group::TopicPartition, int64_t> committed;  // what this instance last committed
  int64_t last_used_ms = 0;
  int64_t last_heartbeat_ms = 0;
  bool heartbeat_in_flight = false;
  bool resubscribed = false;  // the subscription changed during a join
};

struct ConsumerInstances::PartitionRead {
  group::TopicPartition tp;
  int64_t offset = -1;  // -1: resolving auto.offset.reset
  group::ShareRead read;
};

}  // namespace dmq::rest
