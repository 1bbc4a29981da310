#pragma once
// The records of the internal topic __consumer_offsets, in Apache Kafka's own
// key/value schemas (group-coordinator OffsetCommitKey/Value and
// GroupMetadataKey/Value, non-flexible versions), so Kafka's tools can read
// a DMQ log:
//
//   key   int16 version 0|1: offset commit  {group, topic, partition}
//         int16 version 2  : group metadata {group}
//   value OffsetCommitValue v3 {offset, leaderEpoch, metadata, commitTimestamp}
//         (v1 {offset, metadata, commitTimestamp, expireTimestamp} when the
//         commit carried a retention time)
//         GroupMetadataValue v3 {protocolType, generation, protocol, leader,
//         currentStateTimestamp, members[...]}
//   a null value is a tombstone (offset deleted or expired; group removed).
//
// Strings are int16-length, bytes int32-length, arrays int32-count, all
// big-endian. Decoding never trusts the input: malformed records give
// nullopt and are skipped by the loader. Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "group/group.h"
#include "group/types.h"

namespace dmq::group {

inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";
// The transaction coordinators' topic (src/txn): its partition of a
// transactional id is found with partition_for() below, as Kafka does.
inline constexpr std::string_view kTransactionStateTopic = "__transaction_state";

// Java's String.hashCode over the UTF-16 code units of `utf8` (invalid UTF-8
// bytes count as U+FFFD, as Java's decoder would have produced).
int32_t java_string_hash(std::string_view utf8);
// abs(hash) % partitions with abs(INT_MIN) = 0 (Kafka's Utils.abs):
// the __consumer_offsets partition, hence the coordinator, of a group.
int32_t partition_for(std::string_view group_id, int32_t partitions);

std::string encode_offset_key(std::string_view group_id, const TopicPartition& tp);
std::string encode_offset_value(const CommittedOffset& offset);
std::string encode_group_key(std::string_view group_id);
std::string encode_group_value(const GroupSnapshot& snapshot);

struct OffsetsRecord {
  enum class Kind { kOffset, kGroup };
  Kind kind = Kind::kOffset;
  std::string group_id;
  TopicPartition tp;                      // kOffset
  std::optional<CommittedOffset> offset;  // kOffset; nullopt: tombstone
  std::optional<GroupSnapshot> group;     // kGroup; nullopt: tombstone
};

// nullopt: a null key, an unknown key version or malformed bytes.
std::optional<OffsetsRecord> decode_offsets_record(std::optional<std::string_view> key,
                                                   std::optional<std::string_view> value);

}  // namespace dmq::group
