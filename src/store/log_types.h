#pragma once
// Value types shared by the partition log, its segments and the group
// committer: offsets, leader epochs, and the error values a log returns.

#include <compare>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <variant>

#include "common/assert.h"
#include "common/strong_id.h"

namespace dmq::store {

// A Kafka record offset inside one partition. Distinct from sizes and file
// positions so the compiler catches mixing them up.
using Offset = StrongId<struct OffsetTag, int64_t>;

// A partition leader epoch (KIP-101); cluster metadata uses the same type.
// -1 means "unknown", as on the wire.
using LeaderEpoch = StrongId<struct LeaderEpochTag, int32_t>;
inline constexpr LeaderEpoch kUnknownLeaderEpoch{-1};

// Errors a partition log reports. The broker maps them to Kafka error codes
// (noted per value).
enum class LogError {
  kOk = 0,
  kOffsetOutOfRange,  // OFFSET_OUT_OF_RANGE: offset outside [log_start, log_end]
  kCorruptBatch,      // CORRUPT_MESSAGE: bad length/magic in caller-supplied bytes
  kBatchTooLarge,     // RECORD_LIST_TOO_LARGE: one append larger than segment.bytes
  kNonContiguous,     // follower batch does not start at log_end_offset (replica must truncate)
  kStorageFailed,     // KAFKA_STORAGE_ERROR: an I/O or fsync failure; the log is closed
  kWriteFailed,       // KAFKA_STORAGE_ERROR: a write failed (disk full, EIO) and was undone; the
                      // log stays open and takes the next append (writes resume with space)
  kCorruptState,      // a checkpoint file on disk cannot be parsed
  kTruncated,         // a durability wait lost its offset to a truncation
  kShuttingDown,      // the group committer stopped before the request was served
};

const char* log_error_name(LogError error);

// An error value with a human-readable detail (file name, errno text).
struct LogStatus {
  LogError code = LogError::kOk;
  std::string message;
  bool ok() const { return code == LogError::kOk; }
  static LogStatus success() { return {}; }
};

// Either a value or a LogStatus with code != kOk.
template <typename T>
class LogResult {
 public:
  LogResult(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  LogResult(LogStatus status) : v_(std::move(status)) { DMQ_ASSERT(!std::get<LogStatus>(v_).ok()); }
  LogResult(LogError code, std::string message = {})
      : LogResult(LogStatus{code, std::move(message)}) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  T& value() {
    DMQ_ASSERT(ok());
    return std::get<T>(v_);
  }
  const T& value() const {
    DMQ_ASSERT(ok());
    return std::get<T>(v_);
  }
  const LogStatus& status() const {
    DMQ_ASSERT(!ok());
    return std::get<LogStatus>(v_);
  }
  LogError error() const { return ok() ? LogError::kOk : status().code; }

 private:
  std::variant<T, LogStatus> v_;
};

}  // namespace dmq::store
