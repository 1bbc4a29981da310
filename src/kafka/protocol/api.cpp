#include "kafka/protocol/api.h"

#include <array>
#include <limits>

#include "common/assert.h"

namespace dmq::kafka {
namespace {

constexpr int16_t kNever = std::numeric_limits<int16_t>::max();

// Keep in ascending key order (find_api relies on it for nothing but clarity).
constexpr std::array kApis = {
    ApiInfo{ApiKey::kProduce, "Produce", 0, 10, 9},
    ApiInfo{ApiKey::kFetch, "Fetch", 0, 16, 12},
    ApiInfo{ApiKey::kListOffsets, "ListOffsets", 0, 8, 6},
    ApiInfo{ApiKey::kMetadata, "Metadata", 0, 12, 9},
    ApiInfo{ApiKey::kOffsetCommit, "OffsetCommit", 0, 9, 8},
    ApiInfo{ApiKey::kOffsetFetch, "OffsetFetch", 0, 9, 6},
    ApiInfo{ApiKey::kFindCoordinator, "FindCoordinator", 0, 4, 3},
    ApiInfo{ApiKey::kJoinGroup, "JoinGroup", 0, 9, 6},
    ApiInfo{ApiKey::kHeartbeat, "Heartbeat", 0, 4, 4},
    ApiInfo{ApiKey::kLeaveGroup, "LeaveGroup", 0, 5, 4},
    ApiInfo{ApiKey::kSyncGroup, "SyncGroup", 0, 5, 4},
    ApiInfo{ApiKey::kDescribeGroups, "DescribeGroups", 0, 5, 5},
    ApiInfo{ApiKey::kListGroups, "ListGroups", 0, 4, 3},
    ApiInfo{ApiKey::kSaslHandshake, "SaslHandshake", 0, 1, kNever},
    ApiInfo{ApiKey::kApiVersions, "ApiVersions", 0, 3, 3},
    ApiInfo{ApiKey::kCreateTopics, "CreateTopics", 0, 7, 5},
    ApiInfo{ApiKey::kDeleteTopics, "DeleteTopics", 0, 6, 4},
    ApiInfo{ApiKey::kDeleteRecords, "DeleteRecords", 0, 2, 2},
    ApiInfo{ApiKey::kInitProducerId, "InitProducerId", 0, 4, 2},
    ApiInfo{ApiKey::kOffsetForLeaderEpoch, "OffsetForLeaderEpoch", 0, 4, 4},
    ApiInfo{ApiKey::kAddPartitionsToTxn, "AddPartitionsToTxn", 0, 4, 3},
    ApiInfo{ApiKey::kAddOffsetsToTxn, "AddOffsetsToTxn", 0, 3, 3},
    ApiInfo{ApiKey::kEndTxn, "EndTxn", 0, 3, 3},
    ApiInfo{ApiKey::kWriteTxnMarkers, "WriteTxnMarkers", 0, 1, 1},
    ApiInfo{ApiKey::kTxnOffsetCommit, "TxnOffsetCommit", 0, 3, 3},
    ApiInfo{ApiKey::kDescribeAcls, "DescribeAcls", 0, 3, 2},
    ApiInfo{ApiKey::kCreateAcls, "CreateAcls", 0, 3, 2},
    ApiInfo{ApiKey::kDeleteAcls, "DeleteAcls", 0, 3, 2},
    ApiInfo{ApiKey::kDescribeConfigs, "DescribeConfigs", 0, 4, 4},
    ApiInfo{ApiKey::kAlterConfigs, "AlterConfigs", 0, 2, 2},
    ApiInfo{ApiKey::kDescribeLogDirs, "DescribeLogDirs", 0, 4, 2},
    ApiInfo{ApiKey::kSaslAuthenticate, "SaslAuthenticate", 0, 2, 2},
    ApiInfo{ApiKey::kCreatePartitions, "CreatePartitions", 0, 3, 2},
    ApiInfo{ApiKey::kDeleteGroups, "DeleteGroups", 0, 2, 2},
    ApiInfo{ApiKey::kElectLeaders, "ElectLeaders", 0, 2, 2},
    ApiInfo{ApiKey::kIncrementalAlterConfigs, "IncrementalAlterConfigs", 0, 1, 1},
    ApiInfo{ApiKey::kAlterPartitionReassignments, "AlterPartitionReassignments", 0, 0, 0},
    ApiInfo{ApiKey::kListPartitionReassignments, "ListPartitionReassignments", 0, 0, 0},
    ApiInfo{ApiKey::kOffsetDelete, "OffsetDelete", 0, 0, kNever},
    ApiInfo{ApiKey::kDescribeClientQuotas, "DescribeClientQuotas", 0, 1, 1},
    ApiInfo{ApiKey::kAlterClientQuotas, "AlterClientQuotas", 0, 1, 1},
    ApiInfo{ApiKey::kDescribeUserScramCredentials, "DescribeUserScramCredentials", 0, 0, 0},
    ApiInfo{ApiKey::kAlterUserScramCredentials, "AlterUserScramCredentials", 0, 0, 0},
    ApiInfo{ApiKey::kDescribeCluster, "DescribeCluster", 0, 1, 0},
    ApiInfo{ApiKey::kDescribeProducers, "DescribeProducers", 0, 0, 0},
    ApiInfo{ApiKey::kDescribeTransactions, "DescribeTransactions", 0, 0, 0},
    ApiInfo{ApiKey::kListTransactions, "ListTransactions", 0, 0, 0},
};

}  // namespace

std::span<const ApiInfo> supported_apis() {
  return kApis;
}

const ApiInfo* find_api(int16_t key) {
  for (const auto& api : kApis) {
    if (static_cast<int16_t>(api.key) == key) return &api;
  }
  return nullptr;
}

bool is_flexible(ApiKey key, int16_t version) {
  const ApiInfo* api = find_api(key);
  DMQ_ASSERT(api != nullptr);
  return is_flexible(*api, version);
}

int request_header_version(ApiKey key, int16_t version) {
  return is_flexible(key, version) ? 2 : 1;
}

int response_header_version(ApiKey key, int16_t version) {
  if (key == ApiKey::kApiVersions) return 0;
  return is_flexible(key, version) ? 1 : 0;
}

}  // namespace dmq::kafka
