#pragma once
// The leader epoch cache of one partition replica (KIP-101, KIP-279): for each
// leader epoch, the first offset written in it. It answers
// OffsetForLeaderEpoch so a follower can find where its log diverges from the
// leader's and truncate exactly there, instead of to the high watermark.
//
// A plain value type; the PartitionLog owns one, guards it with its lock and
// persists it (leader-epoch-checkpoint, Kafka's text format) from its flush.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/log_types.h"

namespace dmq::store {

struct EpochEntry {
  LeaderEpoch epoch;
  Offset start_offset;
  bool operator==(const EpochEntry&) const = default;
};

// The answer to OffsetForLeaderEpoch; both -1 (UNDEFINED) when unknown.
struct EpochEndOffset {
  LeaderEpoch epoch = kUnknownLeaderEpoch;
  Offset end_offset = Offset(-1);
};

class LeaderEpochCache {
 public:
  // Records that `epoch` starts at `start_offset`. Entries with a higher or
  // equal epoch or a higher or equal start offset are superseded and dropped
  // (Kafka's LeaderEpochFileCache.assign). Returns false when nothing changed
  // (the epoch is already known with a start offset <= start_offset, or the
  // epoch is older than the latest).
  bool assign(LeaderEpoch epoch, Offset start_offset);

  // Kafka's endOffsetFor: the largest epoch <= `requested` and the start
  // offset of the first epoch after it; log_end_offset for the latest epoch.
  EpochEndOffset end_offset_for(LeaderEpoch requested, Offset log_end_offset) const;

  // After the log is truncated to `end`: drop entries starting at or after it.
  bool truncate_from_end(Offset end);
  // After the log start moves to `start`: entries before it collapse into one
  // entry for the latest of them, starting at `start`.
  bool truncate_from_start(Offset start);

  std::optional<LeaderEpoch> latest_epoch() const;
  const std::vector<EpochEntry>& entries() const { return entries_; }

  std::string encode() const;
  static std::optional<LeaderEpochCache> decode(std::string_view text);

 private:
  std::vector<EpochEntry> entries_;  // epochs and start offsets strictly increasing
};

}  // namespace dmq::store
