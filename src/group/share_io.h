#pragma once
// How the share coordinator reads the partitions its groups consume and
// appends dead letters: partitions led anywhere in the cluster, not only
// here. The implementation (src/rest/share_group_io.h) serves partitions this
// broker leads through broker::Backend and the others through their leader's
// internal HTTP endpoints.
//
// Threads: called on the event-loop thread; every callback runs on the
// event-loop thread, exactly once.

#include <cstdint>
#include <functional>
#include <string>

#include "kafka/protocol/error_code.h"

namespace dmq::group {

struct TopicPartition;

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
};

}  // namespace dmq::group
