#pragma once
// TxnIndex: the transactions of one partition replica (KIP-98's partition
// side): which producers have a transaction open here and where it started,
// which transactions ended in an ABORT marker (the aborted-transaction index
// a read_committed Fetch returns), and the last stable offset (LSO).
//
// Fed with every appended batch, on the leader and on followers alike, and
// rebuilt from the log when a replica opens (record_batches in
// producer_state.h), so a new leader or a restarted broker knows the open
// transactions and the aborted ones without other state.
//
// The LSO is the first offset a read_committed consumer may not see yet:
// the first offset of the earliest transaction that is open, or whose marker
// is not yet below the high watermark (a marker the ISR does not hold yet
// could still be lost with the leader; until it is committed its
// transaction is not decided for a consumer), and never above the high
// watermark.
//
// Pure: no I/O, no clock. One owner (the partition, on the event loop).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dmq::broker {

struct AbortedTxn {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;  // the ABORT marker's offset
  bool operator==(const AbortedTxn&) const = default;
};

// A control record's type (Kafka's ControlRecordType).
enum class ControlType : int16_t { kAbort = 0, kCommit = 1 };

// The type of the (first) control record of a whole control batch; nullopt
// when the batch is not a control batch or its record does not parse.
std::optional<ControlType> control_type_of(std::string_view batch);

// A COMMIT or ABORT control batch of `producer_id`/`producer_epoch`, as the
// transaction coordinator has it written (Kafka's EndTransactionMarker:
// key = version 0, type; value = version 0, coordinator epoch).
std::string build_control_batch(int64_t producer_id, int16_t producer_epoch, ControlType type,
                                int32_t coordinator_epoch, int64_t timestamp_ms);

class TxnIndex {
 public:
  // A transactional data batch of `producer_id` appended at `base_offset`:
  // opens its transaction here unless one is open already.
  void on_data(int64_t producer_id, int16_t producer_epoch, int64_t base_offset);
  // A marker of `producer_id` appended at `offset`: closes its transaction
  // (an ABORT also enters the aborted index). A marker without an open
  // transaction (a retried or repeated marker) changes nothing but the epoch.
  void on_marker(int64_t producer_id, int16_t producer_epoch, ControlType type, int64_t offset);
  // Forgets transactions whose markers lie below `high_watermark`: the LSO
  // no longer depends on them.
  void advance(int64_t high_watermark);

  bool is_open(int64_t producer_id) const { return open_.count(producer_id) != 0; }
  // The first offset of `producer_id`'s open transaction here; -1 if none.
  int64_t open_since(int64_t producer_id) const {
    auto it = open_.find(producer_id);
    return it == open_.end() ? -1 : it->second;
  }
  // The epoch of the latest marker of `producer_id` (-1: none seen). A data
  // batch of an older epoch belongs to a transaction already ended.
  int16_t marker_epoch(int64_t producer_id) const;
  int64_t last_stable_offset(int64_t high_watermark) const;
  // Aborted transactions that overlap [from, to): last_offset >= from and
  // first_offset < to, in the order of their markers.
  std::vector<AbortedTxn> aborted_between(int64_t from, int64_t to) const;
  size_t open_count() const { return open_.size(); }
  size_t aborted_count() const { return aborted_.size(); }

  // The log was truncated at `offset` (a follower's divergent tail): what
  // started there goes, and a marker that went reopens its transaction.
  void truncate_from(int64_t offset);
  // Drops aborted entries wholly below `log_start_offset` (retention).
  void forget_below(int64_t log_start_offset);

 private:
  struct Completing {
    int64_t producer_id;
    int64_t first_offset;
  };
  std::map<int64_t, int64_t> open_;           // producer id -> first offset
  std::map<int64_t, Completing> completing_;  // marker offset -> its transaction
  std::vector<AbortedTxn> aborted_;           // ascending last_offset
  std::map<int64_t, int16_t> marker_epochs_;  // producer id -> epoch of its last marker
};

}  // namespace dmq::broker
