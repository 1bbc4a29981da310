#pragma once
// Values shared by the pure group state machine (group.h), the
// __consumer_offsets record codec (records.h) and the coordinator (I/O).
// Pure: no clocks, no I/O.

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dmq::group {

// Milliseconds on the coordinator's clock. Like Kafka, one wall clock serves
// both session deadlines and commit timestamps (they are compared with each
// other when offsets expire, KIP-211).
using TimeMs = std::chrono::milliseconds;

// The group subsystem's own errors; the coordinator maps them to Kafka error
// codes at the edge (coordinator.cpp, to_kafka()).
enum class Error : uint8_t {
  kNone,
  kNotCoordinator,             // this broker does not lead the group's offsets partition
  kLoadInProgress,             // the offsets partition is still being loaded
  kCoordinatorNotAvailable,    // group Dead, or __consumer_offsets not ready
  kInvalidGroupId,             // empty group id
  kUnknownMemberId,            // member id unknown or expired
  kIllegalGeneration,          // stale generation id
  kRebalanceInProgress,        // the member must rejoin
  kMemberIdRequired,           // JoinGroup v4+ first round (KIP-394)
  kFencedInstanceId,           // a newer member owns the static instance id (KIP-345)
  kInconsistentGroupProtocol,  // no common protocol, or a different protocol type
  kInvalidSessionTimeout,      // outside group.min/max.session.timeout.ms
  kNonEmptyGroup,              // DeleteGroups on a group with members
  kGroupIdNotFound,            // Describe/Delete of an unknown group
  kOffsetMetadataTooLarge,     // commit metadata above offset.metadata.max.bytes
  kGroupSubscribedToTopic,     // OffsetDelete of a topic the group consumes
};
const char* error_name(Error error);

enum class GroupState : uint8_t {
  kEmpty,
  kPreparingRebalance,
  kCompletingRebalance,
  kStable,
  kDead,
};
// Kafka's names, as DescribeGroups and ListGroups v4 spell them.
std::string_view state_name(GroupState state);
// The inverse of state_name (case-insensitive); nullopt if unknown.
std::optional<GroupState> parse_state(std::string_view name);

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = 0;
  // Set by OffsetCommit v2-4 retention_time_ms (OffsetCommitValue v1).
  std::optional<int64_t> expire_timestamp_ms;
  bool operator==(const CommittedOffset&) const = default;
};

// Identifies a parked JoinGroup or SyncGroup; chosen by the caller, echoed
// in the Reply that answers it.
// The offsets one transaction commits, by group id and partition.
using TxnOffsets = std::map<std::string, std::map<TopicPartition, CommittedOffset>>;

using Token = uint64_t;

}  // namespace dmq::group
