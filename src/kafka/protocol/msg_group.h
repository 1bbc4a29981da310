#pragma once
// Consumer-group APIs (classic protocol): FindCoordinator, JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups,
// DescribeGroups, DeleteGroups, OffsetDelete. Same conventions as msg_core.h.
// Member metadata and assignments are opaque bytes (ConsumerProtocol*.json).

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/codec.h"

namespace dmq::kafka {

// ---- FindCoordinator (key 10), v0-4 ---------------------------------------------

struct FindCoordinatorRequest {
  static constexpr ApiKey kApiKey = ApiKey::kFindCoordinator;
  std::string_view key;                            // v0-3
  int8_t key_type = 0;                             // v1+: 0 group, 1 transaction
  std::vector<std::string_view> coordinator_keys;  // v4+ (batched, KIP-699)
};

struct FindCoordinatorResponse {
  static constexpr ApiKey kApiKey = ApiKey::kFindCoordinator;
  struct Coordinator {  // v4+
    std::string key;
    int32_t node_id = -1;
    std::string host;
    int32_t port = -1;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
  };
  int32_t throttle_time_ms = 0;              // v1+
  ErrorCode error_code = ErrorCode::kNone;   // v0-3
  std::optional<std::string> error_message;  // v1-3
  int32_t node_id = -1;                      // v0-3
  std::string host;                          // v0-3
  int32_t port = -1;                         // v0-3
  std::vector<Coordinator> coordinators;     // v4+
};

DMQ_KAFKA_DECLARE_CODEC(FindCoordinatorRequest);
DMQ_KAFKA_DECLARE_CODEC(FindCoordinatorResponse);

// ---- JoinGroup (key 11), v0-9 -----------------------------------------------------

struct JoinGroupRequest {
  static constexpr ApiKey kApiKey = ApiKey::kJoinGroup;
  struct Protocol {
    std::string_view name;
    std::string_view metadata;
  };
  std::string_view group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;  // v1+; v0 uses the session timeout
  std::string_view member_id;
  std::optional<std::string_view> group_instance_id;  // v5+ (KIP-345)
  std::string_view protocol_type;
  std::vector<Protocol> protocols;
  std::optional<std::string_view> reason;  // v8+
};

struct JoinGroupResponse {
  static constexpr ApiKey kApiKey = ApiKey::kJoinGroup;
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v5+
    std::string metadata;
  };
  int32_t throttle_time_ms = 0;  // v2+
  ErrorCode error_code = ErrorCode::kNone;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;  // v7+
  std::optional<std::string> protocol_name;  // null only v7+ ("" below)
  std::string leader;
  bool skip_assignment = false;  // v9+
  std::string member_id;
  std::vector<Member> members;  // only the leader gets them
};

DMQ_KAFKA_DECLARE_CODEC(JoinGroupRequest);
DMQ_KAFKA_DECLARE_CODEC(JoinGroupResponse);

// ---- SyncGroup (key 14), v0-5 -----------------------------------------------------

struct SyncGroupRequest {
  static constexpr ApiKey kApiKey = ApiKey::kSyncGroup;
  struct Assignment {
    std::string_view member_id;
    std::string_view assignment;
  };
  std::string_view group_id;
  int32_t generation_id = -1;
  std::string_view member_id;
  std::optional<std::string_view> group_instance_id;  // v3+
  std::optional<std::string_view> protocol_type;      // v5+
  std::optional<std::string_view> protocol_name;      // v5+
  std::vector<Assignment> assignments;                // from the leader only
};

struct SyncGroupResponse {
  static constexpr ApiKey kApiKey = ApiKey::kSyncGroup;
  int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> protocol_type;  // v5+
  std::optional<std::string> protocol_name;  // v5+
  std::string assignment;
};

DMQ_KAFKA_DECLARE_CODEC(SyncGroupRequest);
DMQ_KAFKA_DECLARE_CODEC(SyncGroupResponse);

// ---- Heartbeat (key 12), v0-4 -----------------------------------------------------

struct HeartbeatRequest {
  static constexpr ApiKey kApiKey = ApiKey::kHeartbeat;
  std::string_view group_id;
  int32_t generation_id = -1;
  std::string_view member_id;
  std::optional<std::string_view> group_instance_id;  // v3+
};

struct HeartbeatResponse {
  static constexpr ApiKey kApiKey = ApiKey::kHeartbeat;
  int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::kNone;
};

DMQ_KAFKA_DECLARE_CODEC(HeartbeatRequest);
DMQ_KAFKA_DECLARE_CODEC(HeartbeatResponse);

// ---- LeaveGroup (key 13), v0-5 ----------------------------------------------------

struct LeaveGroupRequest {
  static constexpr ApiKey kApiKey = ApiKey::kLeaveGroup;
  struct Member {  // v3+
    std::string_view member_id;
    std::optional<std::string_view> group_instance_id;
    std::optional<std::string_view> reason;  // v5+
  };
  std::string_view group_id;
  std::string_view member_id;   // v0-2
  std::vector<Member> members;  // v3+
};

struct LeaveGroupResponse {
  static constexpr ApiKey kApiKey = ApiKey::kLeaveGroup;
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    ErrorCode error_code = ErrorCode::kNone;
  };
  int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::kNone;
  std::vector<Member> members;  // v3+
};

DMQ_KAFKA_DECLARE_CODEC(LeaveGroupRequest);
DMQ_KAFKA_DECLARE_CODEC(LeaveGroupResponse);

// ---- OffsetCommit (key 8), v2-8 ---------------------------------------------------

struct OffsetCommitRequest {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetCommit;
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;  // v6+
    std::optional<std::string_view> committed_metadata;
    int64_t commit_timestamp = -1;  // v1 only
  };
  struct Topic {
    std::string_view name;
    std::vector<Partition> partitions;
  };
  std::string_view group_id;
  int32_t generation_id = -1;  // v1+; -1: simple (group-less) commit, as v0 always is
  std::string_view member_id;  // v1+
  std::optional<std::string_view> group_instance_id;  // v7+
  int64_t retention_time_ms = -1;                     // v2-4
  std::vector<Topic> topics;
};

struct OffsetCommitResponse {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetCommit;
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Topic> topics;
};

DMQ_KAFKA_DECLARE_CODEC(OffsetCommitRequest);
DMQ_KAFKA_DECLARE_CODEC(OffsetCommitResponse);

// ---- OffsetFetch (key 9), v1-8 ----------------------------------------------------
// v1-7 ask for one group (group_id, topics); v8 batches groups (KIP-709).

struct OffsetFetchRequest {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetFetch;
  struct Topic {
    std::string_view name;
    std::vector<int32_t> partition_indexes;
  };
  struct Group {  // v8+
    std::string_view group_id;
    std::optional<std::string_view> member_id;  // v9+ (KIP-848 members)
    int32_t member_epoch = -1;                  // v9+
    std::optional<std::vector<Topic>> topics;   // null = all committed
  };
  std::string_view group_id;                 // v1-7
  std::optional<std::vector<Topic>> topics;  // v1-7; null (v2+) = all committed
  std::vector<Group> groups;                 // v8+
  bool require_stable = false;               // v7+
};

struct OffsetFetchResponse {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetFetch;
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = -1;        // -1: no commit
    int32_t committed_leader_epoch = -1;  // v5+
    std::optional<std::string> metadata;
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  struct Group {  // v8+
    std::string group_id;
    std::vector<Topic> topics;
    ErrorCode error_code = ErrorCode::kNone;
  };
  int32_t throttle_time_ms = 0;             // v3+
  std::vector<Topic> topics;                // v1-7
  ErrorCode error_code = ErrorCode::kNone;  // v2-7
  std::vector<Group> groups;                // v8+
};

DMQ_KAFKA_DECLARE_CODEC(OffsetFetchRequest);
DMQ_KAFKA_DECLARE_CODEC(OffsetFetchResponse);

// ---- ListGroups (key 16), v0-4 ----------------------------------------------------

struct ListGroupsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kListGroups;
  std::vector<std::string_view> states_filter;  // v4+; empty = all
};

struct ListGroupsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kListGroups;
  struct Group {
    std::string group_id;
    std::string protocol_type;
    std::string group_state;  // v4+
  };
  int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::kNone;
  std::vector<Group> groups;
};

DMQ_KAFKA_DECLARE_CODEC(ListGroupsRequest);
DMQ_KAFKA_DECLARE_CODEC(ListGroupsResponse);

// ---- DescribeGroups (key 15), v0-5 ------------------------------------------------

struct DescribeGroupsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeGroups;
  std::vector<std::string_view> groups;
  bool include_authorized_operations = false;  // v3+
};

struct DescribeGroupsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeGroups;
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v4+
    std::string client_id;
    std::string client_host;
    std::string member_metadata;
    std::string member_assignment;
  };
  struct Group {
    ErrorCode error_code = ErrorCode::kNone;
    std::string group_id;
    std::string
        group_state;  // "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"
    std::string protocol_type;
    std::string protocol_data;  // the chosen protocol name
    std::vector<Member> members;
    int32_t authorized_operations = std::numeric_limits<int32_t>::min();  // v3+
  };
  int32_t throttle_time_ms = 0;  // v1+
  std::vector<Group> groups;
};

DMQ_KAFKA_DECLARE_CODEC(DescribeGroupsRequest);
DMQ_KAFKA_DECLARE_CODEC(DescribeGroupsResponse);

// ---- DeleteGroups (key 42), v0-2 --------------------------------------------------

struct DeleteGroupsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteGroups;
  std::vector<std::string_view> groups_names;
};

struct DeleteGroupsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteGroups;
  struct Result {
    std::string group_id;
    ErrorCode error_code = ErrorCode::kNone;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
};

DMQ_KAFKA_DECLARE_CODEC(DeleteGroupsRequest);
DMQ_KAFKA_DECLARE_CODEC(DeleteGroupsResponse);

// ---- OffsetDelete (key 47), v0 ----------------------------------------------------

struct OffsetDeleteRequest {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetDelete;
  struct Topic {
    std::string_view name;
    std::vector<int32_t> partitions;  // partition indexes
  };
  std::string_view group_id;
  std::vector<Topic> topics;
};

struct OffsetDeleteResponse {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetDelete;
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  ErrorCode error_code = ErrorCode::kNone;
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
};

DMQ_KAFKA_DECLARE_CODEC(OffsetDeleteRequest);
DMQ_KAFKA_DECLARE_CODEC(OffsetDeleteResponse);

// ---- error responses ---------------------------------------------------------------

FindCoordinatorResponse make_error_response(const FindCoordinatorRequest& req, int16_t version,
                                            ErrorCode error);
JoinGroupResponse make_error_response(const JoinGroupRequest& req, int16_t version,
                                      ErrorCode error);
SyncGroupResponse make_error_response(const SyncGroupRequest& req, int16_t version,
                                      ErrorCode error);
HeartbeatResponse make_error_response(const HeartbeatRequest& req, int16_t version,
                                      ErrorCode error);
LeaveGroupResponse make_error_response(const LeaveGroupRequest& req, int16_t version,
                                       ErrorCode error);
OffsetCommitResponse make_error_response(const OffsetCommitRequest& req, int16_t version,
                                         ErrorCode error);
OffsetFetchResponse make_error_response(const OffsetFetchRequest& req, int16_t version,
                                        ErrorCode error);
ListGroupsResponse make_error_response(const ListGroupsRequest& req, int16_t version,
                                       ErrorCode error);
DescribeGroupsResponse make_error_response(const DescribeGroupsRequest& req, int16_t version,
                                           ErrorCode error);
DeleteGroupsResponse make_error_response(const DeleteGroupsRequest& req, int16_t version,
                                         ErrorCode error);
OffsetDeleteResponse make_error_response(const OffsetDeleteRequest& req, int16_t version,
                                         ErrorCode error);

}  // namespace dmq::kafka
