#include "client/group_member.h"

#include <set>

#include "client/commands.h"
#include "client/output.h"

namespace dmq::client {
namespace {

using kafka::ErrorCode;

constexpr int16_t kJoinVersion = 5;
constexpr int16_t kSyncVersion = 3;
constexpr int16_t kHeartbeatVersion = 3;
constexpr int16_t kLeaveVersion = 3;
constexpr int kMaxJoinAttempts = 20;

// Answers that are the member's business (rejoin, drop the id), not a
// coordinator move for call_coordinator to retry.
template <class Resp>
ErrorCode coordinator_error(const Resp& r) {
  return is_coordinator_error(r.error_code) || r.error_code == ErrorCode::kCoordinatorLoadInProgress
             ? r.error_code
             : ErrorCode::kNone;
}

}  // namespace

GroupMember::GroupMember(KafkaClient& client, std::string group, std::vector<std::string> topics,
                         int32_t session_timeout_ms)
    : client_(client),
      group_(std::move(group)),
      topics_(std::move(topics)),
      session_timeout_ms_(session_timeout_ms) {}

kafka::JoinGroupResponse GroupMember::send_join() {
  const std::string subscription = kafka::encode_consumer_subscription(topics_);
  kafka::JoinGroupRequest req;
  req.group_id = group_;
  req.session_timeout_ms = session_timeout_ms_;
  req.rebalance_timeout_ms = session_timeout_ms_;
  req.member_id = member_id_;
  req.protocol_type = "consumer";
  req.protocols = {{"range", subscription}, {"roundrobin", subscription}};
  return client_.call_coordinator<kafka::JoinGroupResponse>(
      group_, kJoinVersion, req, coordinator_error<kafka::JoinGroupResponse>);
}

kafka::PartitionsByTopic GroupMember::join() {
  for (int attempt = 1; attempt <= kMaxJoinAttempts; ++attempt) {
    auto joined = send_join();
    if (joined.error_code == ErrorCode::kMemberIdRequired) {
      member_id_ = joined.member_id;  // KIP-394: the first join only learns the id
      continue;
    }
    if (joined.error_code == ErrorCode::kUnknownMemberId) {
      forget_membership();
      continue;
    }
    if (joined.error_code == ErrorCode::kRebalanceInProgress) continue;
    if (joined.error_code != ErrorCode::kNone) {
      throw ClientError("joining group '" + group_ + "': " + kafka_error_name(joined.error_code));
    }
    member_id_ = joined.member_id;
    generation_ = joined.generation_id;
    std::string assignment = sync(joined);
    if (assignment.empty() && generation_ < 0) continue;  // the rebalance started over
    last_heartbeat_ms_ = monotonic_ms();
    auto decoded = kafka::decode_consumer_assignment(assignment);
    if (!assignment.empty() && !decoded) {
      throw ClientError("group '" + group_ + "': the leader sent an unreadable assignment");
    }
    return decoded.value_or(kafka::PartitionsByTopic{});
  }
  throw ClientError("joining group '" + group_ + "': the group kept rebalancing");
}

// The leader assigns for everyone, by the protocol the coordinator chose.
// Returns this member's assignment; generation_ is -1 when the sync must be
// retried with a new join.
std::string GroupMember::sync(const kafka::JoinGroupResponse& joined) {
  std::vector<std::pair<std::string, std::string>> assignments;
  if (joined.leader == joined.member_id) {
    assignments = kafka::leader_assignments(joined.protocol_name.value_or("range"), joined.members,
                                            partition_counts(joined.members));
  }
  kafka::SyncGroupRequest req;
  req.group_id = group_;
  req.generation_id = generation_;
  req.member_id = member_id_;
  for (const auto& [member, bytes] : assignments) req.assignments.push_back({member, bytes});
  auto resp = client_.call_coordinator<kafka::SyncGroupResponse>(
      group_, kSyncVersion, req, coordinator_error<kafka::SyncGroupResponse>);
  if (resp.error_code == ErrorCode::kRebalanceInProgress ||
      resp.error_code == ErrorCode::kIllegalGeneration) {
    generation_ = -1;
    return {};
  }
  if (resp.error_code == ErrorCode::kUnknownMemberId) {
    forget_membership();
    return {};
  }
  if (resp.error_code != ErrorCode::kNone) {
    throw ClientError("syncing group '" + group_ + "': " + kafka_error_name(resp.error_code));
  }
  return resp.assignment;
}

// Partitions of every topic some member subscribed to (unknown topics: none).
std::map<std::string, int32_t> GroupMember::partition_counts(
    const std::vector<kafka::JoinGroupResponse::Member>& members) {
  std::set<std::string> wanted;
  for (const auto& m : members) {
    auto topics = kafka::decode_consumer_subscription(m.metadata);
    if (topics) wanted.insert(topics->begin(), topics->end());
  }
  const auto& map = client_.refresh_metadata({wanted.begin(), wanted.end()});
  std::map<std::string, int32_t> counts;
  for (const auto& name : wanted) {
    const TopicInfo* t = map.topic(name);
    if (t != nullptr && t->error == ErrorCode::kNone)
      counts[name] = static_cast<int32_t>(t->partitions.size());
  }
  return counts;
}

ErrorCode GroupMember::heartbeat_if_due() {
  if (monotonic_ms() - last_heartbeat_ms_ < session_timeout_ms_ / 3) return ErrorCode::kNone;
  last_heartbeat_ms_ = monotonic_ms();
  kafka::HeartbeatRequest req;
  req.group_id = group_;
  req.generation_id = generation_;
  req.member_id = member_id_;
  return client_
      .call_coordinator<kafka::HeartbeatResponse>(group_, kHeartbeatVersion, req,
                                                  coordinator_error<kafka::HeartbeatResponse>)
      .error_code;
}

ErrorCode GroupMember::commit(const std::string& topic, const std::map<int32_t, int64_t>& offsets) {
  return send_commit(client_, group_, topic, offsets, generation_, member_id_);
}

void GroupMember::leave() {
  if (member_id_.empty()) return;
  kafka::LeaveGroupRequest req;
  req.group_id = group_;
  req.members.push_back({member_id_, std::nullopt, std::nullopt});
  client_.call_coordinator<kafka::LeaveGroupResponse>(group_, kLeaveVersion, req,
                                                      coordinator_error<kafka::LeaveGroupResponse>);
  forget_membership();
}

void GroupMember::forget_membership() {
  member_id_.clear();
  generation_ = -1;
}

}  // namespace dmq::client
