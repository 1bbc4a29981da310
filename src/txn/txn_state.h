#pragma once
// The transaction state machine of one transactional id (Kafka's
// TransactionMetadata, KIP-98), and its record in __transaction_state
// (Kafka's TransactionLogKey/TransactionLogValue schemas, key version 0,
// value version 0). Pure: time is passed in, nothing here does I/O.
//
//   Empty/CompleteCommit/CompleteAbort --AddPartitions--> Ongoing
//   Ongoing --EndTxn(commit)--> PrepareCommit --markers written--> CompleteCommit
//   Ongoing --EndTxn(abort) / timeout / InitProducerId--> PrepareAbort
//           --markers written--> CompleteAbort
//
// Every transition is written to __transaction_state (acks=all) before the
// client hears of it; a coordinator that loads the partition resumes the
// markers of a Prepare* state. The epoch is bumped by InitProducerId (which
// fences the previous producer instance) and by the coordinator's own abort
// of a timed-out transaction (so the producer that let it time out is fenced
// too, as Kafka does).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "group/records.h"
#include "kafka/protocol/error_code.h"

namespace dmq::txn {

using kafka::ErrorCode;

using group::kTransactionStateTopic;
// Kafka's partitionFor: abs(String.hashCode) % partitions, as for groups.
using group::partition_for;

// Values are Kafka's TransactionState ids, as written in the log.
enum class TxnState : int8_t {
  kEmpty = 0,
  kOngoing = 1,
  kPrepareCommit = 2,
  kPrepareAbort = 3,
  kCompleteCommit = 4,
  kCompleteAbort = 5,
  kDead = 6,
  kPrepareEpochFence = 7,
};
// Kafka's names (DescribeTransactions, ListTransactions, REST).
std::string_view state_name(TxnState s);
std::optional<TxnState> state_from_name(std::string_view name);

using TopicPartition = std::pair<std::string, int32_t>;

struct TxnMetadata {
  int64_t producer_id = -1;
  int64_t last_producer_id = -1;
  int16_t producer_epoch = -1;
  int16_t last_producer_epoch = -1;
  int32_t timeout_ms = 60000;
  TxnState state = TxnState::kEmpty;
  std::set<TopicPartition> partitions;
  int64_t start_ms = -1;
  int64_t last_update_ms = -1;
  bool operator==(const TxnMetadata&) const = default;
};

// __transaction_state records.
std::string encode_key(std::string_view transactional_id);
std::string encode_value(const TxnMetadata& m);
// nullopt for a key of another version or bytes that do not parse.
std::optional<std::string> decode_key(std::string_view key);
std::optional<TxnMetadata> decode_value(std::string_view value);

// Kafka's TransactionMetadata.isEpochExhausted.
inline constexpr int16_t kLastBumpableEpoch = INT16_MAX - 2;

// ---- transitions (each returns the error for the client, or the new state) ----

struct Transition {
  ErrorCode error = ErrorCode::kNone;
  std::optional<TxnMetadata> next;  // the state to write (nullopt: nothing to write)
  bool needs_new_producer_id = false;
  bool abort_first = false;  // InitProducerId on an open transaction: abort it, then retry
};

// InitProducerId with a transactional id. `req_producer_id`/`req_epoch` are
// -1 or the client's current ones (KIP-360 recovery).
Transition init_producer(const std::optional<TxnMetadata>& current, int32_t timeout_ms,
                         int64_t req_producer_id, int16_t req_epoch, int64_t now_ms);
// The checks shared by AddPartitions, AddOffsets, EndTxn and TxnOffsetCommit:
// INVALID_PRODUCER_ID_MAPPING for another producer id, PRODUCER_FENCED for
// an older epoch.
ErrorCode check_producer(const TxnMetadata& m, int64_t producer_id, int16_t epoch);
Transition add_partitions_to(const TxnMetadata& m, int64_t producer_id, int16_t epoch,
                             const std::vector<TopicPartition>& partitions, int64_t now_ms);
// EndTxn. A retry of an end already complete gets kNone with nothing to do.
Transition end_transaction(const TxnMetadata& m, int64_t producer_id, int16_t epoch, bool commit,
                           int64_t now_ms);
// The coordinator's own abort (timeout, or a fencing InitProducerId): the
// epoch is bumped so the old producer is fenced.
TxnMetadata begin_abort(const TxnMetadata& m, bool bump_epoch, int64_t now_ms);
// After the markers of a Prepare* state are written.
TxnMetadata complete(const TxnMetadata& m, int64_t now_ms);
// KIP-890 part 1: is `tp` in the ongoing transaction of producer/epoch?
ErrorCode verify_partition(const TxnMetadata& m, int64_t producer_id, int16_t epoch,
                           const TopicPartition& tp);
bool timed_out(const TxnMetadata& m, int64_t now_ms);
// PRODUCER_FENCED came with KIP-588 (InitProducerId v4, AddPartitionsToTxn,
// AddOffsetsToTxn and EndTxn v2); older versions get INVALID_PRODUCER_EPOCH,
// the fencing error those clients know (as Kafka's broker answers).
ErrorCode fenced_for_version(ErrorCode e, int16_t version, int16_t first_version_with_fenced);

}  // namespace dmq::txn
