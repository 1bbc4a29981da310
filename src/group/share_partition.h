#pragma once
// One share-partition of a share group (KIP-932): which records of one topic
// partition the group has delivered, to whom, how often, and which are done.
// Pure: no I/O, no clock (time is passed in), randomness injected; the share
// coordinator (share_coordinator.h) persists every snapshot it answers on.
//
// The window is [start_offset, next_offset): every offset in it has an entry
// in `records`; offsets below start_offset are done (acknowledged or
// archived), offsets at or above next_offset were never delivered. A record
// is AVAILABLE (may be offered, once its backoff has passed), ACQUIRED (locked
// by one member until lock_deadline_ms), ACKNOWLEDGED (accepted), ARCHIVED
// (rejected, failed too often, or missing from the log) or DEAD_LETTERING
// (failed; its dead-letter write is intended, persisted, and not yet
// acknowledged: it blocks start_offset until the write is done, so the intent
// survives a failover).
//
// Threads: one owner, no locking.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dmq::group {

enum class RecordState : uint8_t {
  kAvailable = 0,
  kAcquired = 1,
  kAcknowledged = 2,
  kArchived = 3,
  kDeadLettering = 4,
};
const char* record_state_name(RecordState s);

enum class AckType : uint8_t { kAccept, kRelease, kReject };

enum class AckError : uint8_t {
  kNone,
  kNotDelivered,  // the offset was never delivered to this group
  kNotInFlight,   // delivered, but no longer locked (done, released or lock expired)
  kWrongMember,   // locked by another member
};
const char* ack_error_name(AckError e);

// The topic's share.* configs (defaults as KIP-932 and DESIGN.md §5).
struct ShareConfig {
  int32_t delivery_count_limit = 5;
  int64_t lock_duration_ms = 30000;
  int64_t retry_backoff_ms = 0;
  int64_t retry_backoff_max_ms = 0;
  int32_t partition_limit = 200;  // share.record.lock.partition.limit: window size
  bool dead_letter = false;       // share.dead.letter.topic is set
};

struct InFlightRecord {
  RecordState state = RecordState::kAvailable;
  int32_t delivery_count = 0;
  int64_t lock_deadline_ms = 0;       // while ACQUIRED
  int64_t available_at_ms = 0;        // while AVAILABLE: end of the redelivery backoff
  std::string member_id;              // the lock holder while ACQUIRED
  std::string last_error;             // from the last REJECT or RELEASE, or "lock expired"
  int32_t dead_letter_sequence = -1;  // while DEAD_LETTERING: the producer sequence of its write
  bool operator==(const InFlightRecord&) const = default;
};

// Everything persisted for a share-partition (share_records.h encodes it).
struct SharePartitionSnapshot {
  int64_t start_offset = -1;  // -1: not initialized yet
  int64_t next_offset = -1;
  std::map<int64_t, InFlightRecord> records;
  int64_t dead_lettered = 0;  // records written to the dead-letter topic
  // The idempotent producer of this share-partition's dead-letter writes.
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t next_sequence = 0;
  bool operator==(const SharePartitionSnapshot&) const = default;
};

// What changed in one call, for metrics.
struct ShareEvents {
  int64_t redeliveries = 0;  // records offered again (delivery_count > 1)
  int64_t lock_expiries = 0;
  int64_t failed = 0;  // records that became DEAD_LETTERING or ARCHIVED as failed
};

class SharePartition {
 public:
  // `uniform01` returns a value in [0, 1): the backoff jitter.
  SharePartition(ShareConfig config, std::function<double()> uniform01);
  static SharePartition restore(ShareConfig config, std::function<double()> uniform01,
                                SharePartitionSnapshot snapshot);

  bool initialized() const { return s_.start_offset >= 0; }
  // Starts the window at `offset` (share.auto.offset.reset). Once only.
  void initialize(int64_t offset);
  void set_config(const ShareConfig& config) { config_ = config; }
  // Moves the window past records the log no longer has (retention):
  // anything below `log_start_offset` still pending is archived.
  void advance_to_log_start(int64_t log_start_offset);

  // The first offset a read should start at to find something to deliver
  // now, or -1 when nothing can be delivered (all locked, window full, or
  // nothing below `high_watermark`).
  int64_t first_wanted(int64_t now_ms, int64_t high_watermark) const;
  // When the first record now waiting out its redelivery backoff becomes
  // deliverable (the earliest available_at_ms after `now_ms`), or -1 when
  // none waits: how long a parked fetch may sleep.
  int64_t next_available_at(int64_t now_ms) const;
  // Of the offsets a read found (ascending), those to deliver now, at most
  // `max`: AVAILABLE records past their backoff, then new records from
  // next_offset while the window has room. Locks them for `member_id`;
  // offsets in [next_offset, last chosen) missing from the log are archived.
  std::vector<int64_t> acquire(const std::vector<int64_t>& found, int64_t high_watermark,
                               const std::string& member_id, int64_t now_ms, size_t max,
                               ShareEvents* events);
  // Checks one acknowledgement without applying it.
  AckError check_ack(int64_t offset, const std::string& member_id) const;
  // Applies an acknowledgement that check_ack() passed.
  void ack(int64_t offset, AckType type, const std::string& error, int64_t now_ms,
           ShareEvents* events);
  // Ends the locks whose deadline passed: a failed delivery each.
  void expire_locks(int64_t now_ms, ShareEvents* events);
  // Offsets DEAD_LETTERING, by their write's sequence.
  std::vector<int64_t> dead_letters_pending() const;
  // The dead-letter write of `offset` was acknowledged: archive it.
  void dead_letter_done(int64_t offset);
  void set_producer(int64_t producer_id, int16_t producer_epoch);

  const SharePartitionSnapshot& snapshot() const { return s_; }
  const ShareConfig& config() const { return config_; }
  size_t in_flight() const;                          // ACQUIRED records
  const InFlightRecord* find(int64_t offset) const;  // nullptr outside the window
  // The redelivery backoff before the `delivery_count`-th failed delivery is
  // offered again: retry_backoff_ms * 2^(n-1), capped at retry_backoff_max_ms,
  // with "equal jitter" (uniformly in [d/2, d]) so that many records failed
  // together do not come back together.
  int64_t backoff_ms(int32_t delivery_count) const;

 private:
  void fail(int64_t offset, InFlightRecord& r, ShareEvents* events);
  void make_available(InFlightRecord& r, int64_t now_ms);
  void maybe_advance_start();
  bool window_full() const;

  ShareConfig config_;
  std::function<double()> uniform01_;
  SharePartitionSnapshot s_;
};

}  // namespace dmq::group
