#pragma once
// Appends to and reads from the coordinators' internal topics
// (__consumer_offsets for consumer groups, __share_group_state for share
// groups) through the broker's Backend. Both coordinators keep their state
// as key/value records there, written like a Produce with acks=all and read
// back in chunks when a coordinator loads a partition.
//
// Threads: call on the event-loop thread; `done` runs there too.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio.hpp>
#include <chrono>

#include "broker/backend.h"
#include "cluster/metadata_image.h"

namespace dmq::group {

// Runs `fn` on `io` after `delay`, unless `alive` has expired by then: the
// coordinators' retries (a replica not leading yet, a read that failed).
void run_after(asio::io_context& io, std::chrono::milliseconds delay, std::weak_ptr<bool> alive,
               std::function<void()> fn);

using InternalRecord = std::pair<std::string, std::optional<std::string>>;  // key, value|tombstone

// Builds one batch of `records` stamped `timestamp_ms` and appends it to
// `topic`-`partition` with acks=all. `done(error, base offset)` runs once it
// is acknowledged or refused, unless `alive` has expired by then.
void append_internal(broker::Backend& backend, std::string_view topic, int32_t partition,
                     const std::vector<InternalRecord>& records, int64_t timestamp_ms,
                     std::weak_ptr<bool> alive,
                     std::function<void(kafka::ErrorCode, int64_t base_offset)> done);

// The same for a transactional producer's records (TxnOffsetCommit's
// offsets): one batch of `producer_id`/`producer_epoch` with the
// transactional bit, through Backend::append_txn_offsets.
struct TxnProducer {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};
void append_internal_txn(broker::Backend& backend, std::string_view topic, int32_t partition,
                         const std::vector<InternalRecord>& records, int64_t timestamp_ms,
                         const TxnProducer& producer, std::weak_ptr<bool> alive,
                         std::function<void(kafka::ErrorCode)> done);

// Starts a load: appends `marker_key` as a tombstone and, once it is
// acknowledged, calls `ready(start, end)` with the range to read, from the
// log start to just past the marker. Every write acknowledged before the
// marker lies below it, so the load cannot miss one (Raft §5.4.2 has a new
// leader commit an entry of its own term for the same reason). `refused()`
// when the append was refused (the replica may not lead yet). Neither runs
// once `alive` has expired.
void append_load_marker(broker::Backend& backend, std::string_view topic, int32_t partition,
                        std::string marker_key, int64_t timestamp_ms, std::weak_ptr<bool> alive,
                        std::function<void(int64_t start, int64_t end)> ready,
                        std::function<void()> refused);

// The partitions of `topic` that broker `self` leads in `image`, with their
// leader epochs: what a coordinator owns (a changed epoch means a new
// leadership, to load again).
std::map<int32_t, int32_t> led_partitions(const cluster::MetadataImage& image,
                                          std::string_view topic, int32_t self);

// One step of a load: reads the batches at `next` (up to 1 MiB), hands them
// to `apply`, which moves `next` past what it applied, and says what to do
// next. kMoved also counts as progress (`next` jumped to the log start).
enum class LoadProgress {
  kAdvanced,  // go on at once (next turn of the loop)
  kNotReady,  // not leader yet, or a read error: try again shortly
  kStalled,   // nothing applied at `next` (logged): try again later
};
LoadProgress load_chunk(broker::Backend& backend, std::string_view topic, int32_t partition,
                        int64_t& next, const std::function<void(const std::string&)>& apply);

// Schedules the load's next step after `progress`: `again` on the loop's next
// turn (one chunk per turn, so the loop keeps serving meanwhile), or after a
// short (not ready) or longer (stalled) wait; never once `alive` expired.
void continue_load(asio::io_context& io, LoadProgress progress, std::weak_ptr<bool> alive,
                   std::function<void()> again);

}  // namespace dmq::group
