#pragma once
// The table of Kafka APIs DMQ implements: for each API key the version range
// the codec decodes and encodes (and the broker advertises in ApiVersions) and
// the first flexible version (KIP-482: compact encodings, tagged fields, header
// v2/v1). Also the header-version rules that follow from flexibility.
//
// Every range is the whole of Kafka 3.7's validVersions for that API, from v0
// up (old clients such as sarama and kafka-go still send v0-v2);
// tests/unit/kafka_schema_versions_test.cpp checks the table against the
// schema files.
// Pure data; thread-safe.

#include <cstdint>
#include <span>
#include <string_view>

namespace dmq::kafka {

enum class ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kDescribeGroups = 15,
  kListGroups = 16,
  kSaslHandshake = 17,
  kApiVersions = 18,
  kCreateTopics = 19,
  kDeleteTopics = 20,
  kDeleteRecords = 21,
  kInitProducerId = 22,
  kOffsetForLeaderEpoch = 23,
  kAddPartitionsToTxn = 24,
  kAddOffsetsToTxn = 25,
  kEndTxn = 26,
  kWriteTxnMarkers = 27,
  kTxnOffsetCommit = 28,
  kDescribeAcls = 29,
  kCreateAcls = 30,
  kDeleteAcls = 31,
  kDescribeConfigs = 32,
  kAlterConfigs = 33,
  kDescribeLogDirs = 35,
  kSaslAuthenticate = 36,
  kCreatePartitions = 37,
  kDeleteGroups = 42,
  kElectLeaders = 43,
  kIncrementalAlterConfigs = 44,
  kAlterPartitionReassignments = 45,
  kListPartitionReassignments = 46,
  kOffsetDelete = 47,
  kDescribeClientQuotas = 48,
  kAlterClientQuotas = 49,
  kDescribeUserScramCredentials = 50,
  kAlterUserScramCredentials = 51,
  kDescribeCluster = 60,
  kDescribeProducers = 61,
  kDescribeTransactions = 65,
  kListTransactions = 66,
};

struct ApiInfo {
  ApiKey key;
  std::string_view name;
  int16_t min_version;
  int16_t max_version;
  int16_t first_flexible;  // INT16_MAX when no version is flexible
};

// Every implemented API, in ascending key order.
std::span<const ApiInfo> supported_apis();

// The entry for `key`, or nullptr if DMQ does not implement it (any int16 may
// arrive from the network).
const ApiInfo* find_api(int16_t key);
inline const ApiInfo* find_api(ApiKey key) {
  return find_api(static_cast<int16_t>(key));
}

inline bool version_supported(const ApiInfo& api, int16_t version) {
  return version >= api.min_version && version <= api.max_version;
}
inline bool is_flexible(const ApiInfo& api, int16_t version) {
  return version >= api.first_flexible;
}
// `key` must be in the table.
bool is_flexible(ApiKey key, int16_t version);

// Request header v1 (client_id) or v2 (+ tagged fields).
int request_header_version(ApiKey key, int16_t version);
// Response header v0 (correlation id) or v1 (+ tagged fields). ApiVersions
// always answers with v0, even for its flexible v3 body (KIP-511), because a
// client cannot know the broker's flexibility before this answer.
int response_header_version(ApiKey key, int16_t version);

}  // namespace dmq::kafka
