#pragma once
// A member of a classic consumer group over the Kafka protocol, as a Kafka
// consumer's subscribe() is: FindCoordinator, JoinGroup (protocol type
// "consumer", assignors "range" and "roundrobin"), SyncGroup (the leader
// assigns for every member with kafka/protocol/consumer_assignor.h, as the
// REST consumer instances do), Heartbeat and LeaveGroup. Synchronous: the
// caller's fetch loop calls heartbeat_if_due() between fetches.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "client/kafka_client.h"
#include "kafka/protocol/consumer_assignor.h"

namespace dmq::client {

class GroupMember {
 public:
  GroupMember(KafkaClient& client, std::string group, std::vector<std::string> topics,
              int32_t session_timeout_ms);

  // Joins (again, after a rebalance) and returns this member's partitions.
  // Throws a ClientError when the coordinator refuses the member for good.
  kafka::PartitionsByTopic join();

  // A heartbeat when one is due (a third of the session timeout): kNone, or
  // the coordinator's answer, REBALANCE_IN_PROGRESS when this member must
  // rejoin, UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION when it was dropped.
  kafka::ErrorCode heartbeat_if_due();

  // Commits as this member of the current generation; returns the error.
  kafka::ErrorCode commit(const std::string& topic, const std::map<int32_t, int64_t>& offsets);

  // Leaves the group so the others take its partitions over at once.
  void leave();

  // After UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION: join as a new member.
  void forget_membership();

 private:
  kafka::JoinGroupResponse send_join();
  std::string sync(const kafka::JoinGroupResponse& joined);
  std::map<std::string, int32_t> partition_counts(
      const std::vector<kafka::JoinGroupResponse::Member>& members);

  KafkaClient& client_;
  std::string group_;
  std::vector<std::string> topics_;
  int32_t session_timeout_ms_;
  std::string member_id_;
  int32_t generation_ = -1;
  int64_t last_heartbeat_ms_ = 0;
};

}  // namespace dmq::client
