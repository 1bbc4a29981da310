#pragma once
// Key-based log compaction (Kafka's log cleaner), the parts that know no
// record format: the offset map, the seam to the record codec, and the
// cleaner thread. How a pass works and why a crash at any point loses
// nothing: CLEANER.md. The pass itself is PartitionLog::clean
// (partition_log_cleaner.cpp).
//
// Threads: LogCleaner runs its own thread (never the event loop); add(),
// remove(), wake() and stop() may be called from any thread. OffsetMap and
// RecordCodec are used by one pass at a time.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/log_types.h"

namespace dmq::store {

class PartitionLog;

// One record as the cleaner sees it.
struct CleanerRecord {
  Offset offset;
  std::optional<std::string_view> key;  // nullopt: no key
  bool tombstone = false;               // null value
};

// Record-level access to a batch, which the store does not parse (the Kafka
// codec implements it: broker/log_cleaner_codec.h). `batch` is one whole
// magic-2 batch, header included, as stored. Both return false with a
// reason in *error when the batch cannot be decoded (unknown compression,
// malformed records, output over the decompression bound); the cleaner then
// keeps the batch untouched.
class RecordCodec {
 public:
  virtual ~RecordCodec() = default;
  virtual bool for_each_record(std::string_view batch,
                               const std::function<void(const CleanerRecord&)>& visit,
                               std::string* error) const = 0;
  // Writes to *out the batch rebuilt with only the records keep() accepts:
  // same base offset, last offset delta, producer id/epoch/base sequence,
  // attributes and compression codec, records byte for byte (so each keeps
  // its offset), a fresh CRC. *kept counts them; *out is left empty when
  // none is kept.
  virtual bool filter(std::string_view batch, const std::function<bool(const CleanerRecord&)>& keep,
                      std::string* out, int32_t* kept, std::string* error) const = 0;
};

// Key -> latest offset, in at most `memory_bytes` (log.cleaner.dedupe.buffer.size):
// open addressing over 24-byte slots holding a 128-bit hash of the key (two
// independent 64-bit hashes; Kafka stores an MD5) and the offset. The table
// starts small and doubles up to that bound, so a small log costs little;
// it is filled to at most 90% (Kafka's log.cleaner.io.buffer.load.factor).
// clear() shrinks it back.
class OffsetMap {
 public:
  explicit OffsetMap(size_t memory_bytes);
  // Records `offset` as the latest for `key`. Requires !full() or a key already present.
  void put(std::string_view key, Offset offset);
  std::optional<Offset> get(std::string_view key) const;
  size_t size() const { return size_; }
  // How many distinct keys fit.
  size_t max_keys() const { return max_keys_; }
  bool full() const { return size_ >= max_keys_; }
  void clear();

 private:
  struct Slot {
    uint64_t h1 = 0;
    uint64_t h2 = 0;  // 0 in both: empty (a real hash pair of zeros is remapped)
    int64_t offset = -1;
  };
  size_t probe(const std::vector<Slot>& slots, uint64_t h1, uint64_t h2) const;
  void grow();
  size_t max_slots_ = 0;
  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t max_keys_ = 0;
};

// What one pass (or a round of passes) did.
struct CleanStats {
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t records_removed = 0;
  uint64_t segments_swapped = 0;
  uint64_t segments_deleted = 0;
  uint64_t passes = 0;
  bool more = false;  // the offset map filled up before the dirty end: run again
  void add(const CleanStats& o);
};

class LogCleaner {
 public:
  struct Options {
    bool enabled = true;                      // log.cleaner.enable
    size_t dedupe_buffer_bytes = 128u << 20;  // log.cleaner.dedupe.buffer.size
    int64_t backoff_ms = 15000;               // log.cleaner.backoff.ms
  };
  // `now_ms` gives the wall clock (the store reads none itself); `codec` and
  // the function must outlive the cleaner.
  LogCleaner(Options options, const RecordCodec& codec, std::function<int64_t()> now_ms);
  ~LogCleaner();
  LogCleaner(const LogCleaner&) = delete;
  LogCleaner& operator=(const LogCleaner&) = delete;

  // Starts the thread (no-op when disabled). Idempotent.
  void start();
  // Stops and joins the thread; a pass in progress finishes its current segment first.
  void stop();
  // Logs are held weakly: a deleted log simply drops out.
  void add(const std::shared_ptr<PartitionLog>& log);
  // Runs a round now instead of after the backoff.
  void wake();
  // One round over every registered log on the caller's thread (tests,
  // benchmarks): each compacted log is cleaned, pass after pass while the
  // offset map fills up. Must not run while the thread runs.
  CleanStats run_once();

 private:
  void loop();
  std::vector<std::shared_ptr<PartitionLog>> live_logs();

  const Options options_;
  const RecordCodec& codec_;
  const std::function<int64_t()> now_ms_;
  OffsetMap map_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::weak_ptr<PartitionLog>> logs_;
  bool wake_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dmq::store
