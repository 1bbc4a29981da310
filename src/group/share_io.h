#pragma once
// How the share coordinator reads the partitions its groups consume and
// appends dead letters: partitions led anywhere in the cluster, not only
// here. The implementation (src/rest/share_group_io.h) serves partitions this
// broker leads through broker::Backend and the others through their leader's
// internal HTTP endpoints.
//
// Threads: called on the event-loop thread; every callback runs on the
// event-loop thread, exactly once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "broker/backend.h"
#include "group/types.h"
#include "kafka/protocol/error_code.h"

namespace dmq::group {

struct ShareRead {
  kafka::ErrorCode error = kafka::ErrorCode::kNone;
  int64_t log_start_offset = -1;
  int64_t high_watermark = -1;
  std::string batches;  // whole record batches from the requested offset; may be empty
};

struct ShareAppend {
  kafka::ErrorCode error = kafka::ErrorCode::kNone;
  int64_t base_offset = -1;
};

class ShareIo {
 public:
  virtual ~ShareIo() = default;
  // Batches from `offset` up to the high watermark, at most about `max_bytes`.
  // An offset below the log start gives OFFSET_OUT_OF_RANGE with
  // log_start_offset set.
  virtual void read(const TopicPartition& tp, int64_t offset, uint32_t max_bytes,
                    std::function<void(ShareRead)> done) = 0;
  // Appends one record batch with acks=-1; idempotent batches (producer id
  // and sequence set) are deduplicated by the partition's producer state.
  virtual void append(const TopicPartition& tp, std::string batch,
                      std::function<void(ShareAppend)> done) = 0;
  // Calls `wake` exactly once: soon after the high watermark of one of the
  // partitions passes the offset given with it, and at the latest about
  // `timeout` later. It may wake early (the caller looks again and may
  // watch again); it never sleeps through such a move. What a parked share
  // fetch waits on instead of polling.
  using WatchList = std::vector<std::pair<TopicPartition, int64_t>>;
  virtual void watch(const WatchList& from, std::chrono::milliseconds timeout,
                     std::function<void()> wake) = 0;
};

// The local halves, on a partition this broker leads (loop thread): what
// ShareIo implementations and the leader's internal endpoints run.
// share_append_local's `done` may run before it returns; a batch whose header
// does not parse (input from another node) gets CORRUPT_MESSAGE.
ShareRead share_read_local(broker::Backend& backend, const TopicPartition& tp, int64_t offset,
                           uint32_t max_bytes);
void share_append_local(broker::Backend& backend, const TopicPartition& tp, std::string batch,
                        std::function<void(ShareAppend)> done);

}  // namespace dmq::group
