#pragma once
// The records of the internal topic __share_group_state: one record per
// share-partition, its whole state (share_partition.h), the last one wins.
// DMQ's own format (Kafka's KIP-932 share coordinator writes deltas; a full
// snapshot is simpler to load and stays small because the window is bounded
// by share.record.lock.partition.limit):
//
//   key   int16 version 0 | string group | string topic | int32 partition
//   value int16 version 0 | int64 start_offset | int64 next_offset
//         | int64 dead_lettered | int64 producer_id | int16 producer_epoch
//         | int32 next_sequence | int32 n | n x record
//   record int64 offset | int8 state | int32 delivery_count
//         | int64 lock_deadline_ms | int64 available_at_ms | string member_id
//         | string last_error | int32 dead_letter_sequence
//
// Strings are int16-length, all integers big-endian. A record with the empty
// group is the load marker (share_coordinator.cpp). Decoding never trusts
// the input: malformed records give nullopt. Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "group/share_partition.h"
#include "group/types.h"

namespace dmq::group {

inline constexpr std::string_view kShareStateTopic = "__share_group_state";

std::string encode_share_key(std::string_view group_id, const TopicPartition& tp);
std::string encode_share_value(const SharePartitionSnapshot& snapshot);

struct ShareStateRecord {
  std::string group_id;
  TopicPartition tp;
  std::optional<SharePartitionSnapshot> snapshot;  // nullopt: tombstone
};

// nullopt: a null key, an unknown version or malformed bytes.
std::optional<ShareStateRecord> decode_share_record(std::optional<std::string_view> key,
                                                    std::optional<std::string_view> value);

}  // namespace dmq::group
