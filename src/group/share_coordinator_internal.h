#pragma once
// Private to the share coordinator's .cpp files (and its unit tests).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "group/share_coordinator.h"
#include "group/share_records.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/protocol/record_walk.h"

namespace dmq::group {

inline constexpr int kShareTickMs = 100;
// A parked fetch is woken by new data (ShareIo::watch), an acknowledgement or
// lock expiry in its group, or the end of a redelivery backoff; only a
// partition it could not read (no leader, a peer unreachable) is looked at
// again on a timer, this often.
inline constexpr int kShareFetchRetryMs = 50;
inline constexpr uint32_t kShareReadBytes = 1u << 20;  // the most one read asks for
inline constexpr uint32_t kShareMinReadBytes = 16u << 10;

// One record decoded from fetched batches, owning its bytes.
using DecodedRecord = kafka::OwnedRecord;
using kafka::decode_records;

struct ShareCoordinator::FetchOp {
  ShareFetchRequest request;
  std::function<void(ShareFetchResult)> done;
  int32_t state_partition = -1;
  uint64_t load_id = 0;
  int64_t deadline_ms = 0;
  size_t pending = 0;  // partition reads of this round still out
  std::set<TopicPartition> dirty;
  std::vector<ShareRecordOut> records;
  bool answered = false;
  // Between rounds, waiting for something to deliver. Wake-ups name the
  // park they were set up for (park_seq): an older one is a no-op.
  bool parked = false;
  uint64_t park_seq = 0;
  uint64_t parked_order = 0;                  // parked after every fetch with a smaller one
  bool read_failed = false;                   // this round: a partition could not be read
  ShareIo::WatchList at_end;                  // this round: read up to their high watermark
  std::unique_ptr<asio::steady_timer> timer;  // deadline, backoff end or retry
};

struct ShareLoadState {
  int64_t next = 0;
  int64_t end = 0;
  // The last snapshot of every (group, share-partition) read so far.
  std::map<std::string, std::map<TopicPartition, std::optional<SharePartitionSnapshot>>> state;
  uint64_t records = 0;
  uint64_t skipped = 0;
};

// Applies the state records in `bytes` to `op` (records in [op.next, op.end))
// and moves op.next past the last whole batch. Malformed records are counted
// in op.skipped, never trusted.
void apply_share_batches(std::string_view bytes, ShareLoadState& op);

}  // namespace dmq::group
