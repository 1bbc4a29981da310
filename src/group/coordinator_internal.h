#pragma once
// Private to the coordinator's .cpp files (and its unit tests): error
// mapping and the loader's pure part.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "broker/backend.h"
#include "group/group.h"
#include "group/records.h"
#include "kafka/protocol/error_code.h"

namespace dmq::group {

kafka::ErrorCode to_kafka(Error e);
bool partition_exists(const cluster::MetadataImage& image, std::string_view topic,
                      int32_t partition);
// A failed append to __consumer_offsets as the group APIs report it.
Error from_produce_error(kafka::ErrorCode e);

// What a partition load has read so far: the last value of every key in
// [next at start, end).
struct LoadState {
  int64_t next = 0;  // the next offset to read
  int64_t end = 0;   // stop before this offset
  std::map<std::string, std::optional<GroupSnapshot>> meta;
  std::map<std::string, std::map<TopicPartition, std::optional<CommittedOffset>>> offsets;
  // Offsets in transactional batches whose marker is not read yet, by
  // producer id: a COMMIT marker moves them into `offsets`, ABORT drops them.
  std::map<int64_t, TxnOffsets> pending_txn;
  uint64_t records = 0;
  uint64_t skipped = 0;  // unreadable batches or records
};

// The bytes of a fetched chunk (pread from its file, or its own bytes).
bool read_chunk(const broker::RecordChunk& chunk, std::string& out);
// Applies the whole batches in `bytes` (as Fetch returns them) to `state`,
// records below state.next or at/after state.end ignored, and moves
// state.next past the last batch read. Transactional offsets wait for their
// producer's marker (pending_txn). Malformed batches or records are skipped
// (counted), never trusted.
void apply_batches(std::string_view bytes, LoadState& state);

}  // namespace dmq::group
