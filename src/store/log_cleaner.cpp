#include "store/log_cleaner.h"

#include <algorithm>

#include "common/log.h"
#include "common/metrics.h"
#include "store/partition_log.h"

namespace dmq::store {
namespace {

constexpr size_t kInitialSlots = 1024;
constexpr double kLoadFactor = 0.9;

// Two independent 64-bit hashes (FNV-1a with different bases, each through
// a murmur finalizer): 128 bits make a collision, which would drop a live
// record, as unlikely as with Kafka's MD5.
uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t fnv1a(std::string_view key, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix(h ^ key.size());
}

}  // namespace

OffsetMap::OffsetMap(size_t memory_bytes)
    : max_slots_(std::max<size_t>(memory_bytes / sizeof(Slot), 2)),
      max_keys_(static_cast<size_t>(static_cast<double>(max_slots_) * kLoadFactor)) {
  if (max_keys_ == 0) max_keys_ = 1;
  clear();
}

void OffsetMap::clear() {
  std::vector<Slot>(std::min(kInitialSlots, max_slots_)).swap(slots_);
  size_ = 0;
}

size_t OffsetMap::probe(const std::vector<Slot>& slots, uint64_t h1, uint64_t h2) const {
  size_t i = h1 % slots.size();
  while (true) {
    const Slot& s = slots[i];
    if ((s.h1 == 0 && s.h2 == 0) || (s.h1 == h1 && s.h2 == h2)) return i;
    i = (i + 1) % slots.size();  // the load factor bound guarantees an empty slot
  }
}

void OffsetMap::grow() {
  std::vector<Slot> bigger(std::min(slots_.size() * 2, max_slots_));
  for (const Slot& s : slots_) {
    if (s.h1 == 0 && s.h2 == 0) continue;
    bigger[probe(bigger, s.h1, s.h2)] = s;
  }
  slots_.swap(bigger);
}

void OffsetMap::put(std::string_view key, Offset offset) {
  uint64_t h1 = fnv1a(key, 0xcbf29ce484222325ULL);
  uint64_t h2 = fnv1a(key, 0x84222325cbf29ce4ULL);
  if (h1 == 0 && h2 == 0) h2 = 1;
  size_t i = probe(slots_, h1, h2);
  if (slots_[i].h1 == 0 && slots_[i].h2 == 0) {
    DMQ_ASSERT(size_ < max_keys_);
    if (static_cast<double>(size_ + 1) > static_cast<double>(slots_.size()) * kLoadFactor &&
        slots_.size() < max_slots_) {
      grow();
      i = probe(slots_, h1, h2);
    }
    ++size_;
  }
  slots_[i] = {h1, h2, offset.value};
}

std::optional<Offset> OffsetMap::get(std::string_view key) const {
  uint64_t h1 = fnv1a(key, 0xcbf29ce484222325ULL);
  uint64_t h2 = fnv1a(key, 0x84222325cbf29ce4ULL);
  if (h1 == 0 && h2 == 0) h2 = 1;
  const Slot& s = slots_[probe(slots_, h1, h2)];
  if (s.h1 == 0 && s.h2 == 0) return std::nullopt;
  return Offset(s.offset);
}

void CleanStats::add(const CleanStats& o) {
  bytes_read += o.bytes_read;
  bytes_written += o.bytes_written;
  records_removed += o.records_removed;
  segments_swapped += o.segments_swapped;
  segments_deleted += o.segments_deleted;
  passes += o.passes;
  more = more || o.more;
}

LogCleaner::LogCleaner(Options options, const RecordCodec& codec, std::function<int64_t()> now_ms)
    : options_(options),
      codec_(codec),
      now_ms_(std::move(now_ms)),
      map_(options.dedupe_buffer_bytes) {}

LogCleaner::~LogCleaner() {
  stop();
}

void LogCleaner::start() {
  std::lock_guard lock(mu_);
  if (!options_.enabled || thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { loop(); });
}

void LogCleaner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogCleaner::add(const std::shared_ptr<PartitionLog>& log) {
  std::lock_guard lock(mu_);
  logs_.push_back(log);
}

void LogCleaner::wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

std::vector<std::shared_ptr<PartitionLog>> LogCleaner::live_logs() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<PartitionLog>> out;
  std::erase_if(logs_, [&](const std::weak_ptr<PartitionLog>& w) {
    auto log = w.lock();
    if (!log || log->failure()) return true;
    out.push_back(std::move(log));
    return false;
  });
  return out;
}

CleanStats LogCleaner::run_once() {
  CleanStats total;
  for (const auto& log : live_logs()) {
    // Each pass cleans what the offset map covers; a full map leaves the
    // rest of the dirty section to the next pass (Kafka's multi-pass cleaning).
    for (int pass = 0; pass < 10000; ++pass) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return total;
      }
      auto r = log->clean(codec_, map_, now_ms_());
      if (!r.ok()) {
        LOG_WARN("store") << "cleaning " << log->dir() << " failed: " << r.status().message;
        break;
      }
      total.add(r.value());
      if (!r.value().more) break;
    }
  }
  map_.clear();  // give the table's memory back between rounds
  return total;
}

void LogCleaner::loop() {
  auto& registry = metrics::registry();
  auto& passes = registry.counter("dmq_log_cleaner_passes_total", "Log cleaner passes");
  auto& removed = registry.counter("dmq_log_cleaner_records_removed_total",
                                   "Records the log cleaner removed (superseded, tombstones)");
  auto& read = registry.counter("dmq_log_cleaner_read_bytes_total",
                                "Bytes the log cleaner read (indexing and rewriting)");
  auto& written =
      registry.counter("dmq_log_cleaner_written_bytes_total", "Bytes the log cleaner wrote");
  auto& swapped = registry.counter("dmq_log_cleaner_segments_swapped_total",
                                   "Segments replaced by a cleaned copy or deleted as empty");
  while (true) {
    CleanStats stats = run_once();
    passes.inc(static_cast<double>(stats.passes));
    removed.inc(static_cast<double>(stats.records_removed));
    read.inc(static_cast<double>(stats.bytes_read));
    written.inc(static_cast<double>(stats.bytes_written));
    swapped.inc(static_cast<double>(stats.segments_swapped + stats.segments_deleted));
    if (stats.passes > 0 && stats.records_removed > 0) {
      LOG_INFO("store") << "cleaner: " << stats.passes << " passes, " << stats.records_removed
                        << " records removed, " << stats.bytes_read << " bytes read, "
                        << stats.bytes_written << " written";
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.backoff_ms),
                 [this] { return wake_ || stopping_; });
    if (stopping_) return;
    wake_ = false;
  }
}

}  // namespace dmq::store
