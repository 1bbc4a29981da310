#include "txn/txn_state.h"

#include <array>

#include "common/big_endian.h"

namespace dmq::txn {
namespace {

constexpr std::array<std::string_view, 8> kNames = {
    "Empty",          "Ongoing",       "PrepareCommit", "PrepareAbort",
    "CompleteCommit", "CompleteAbort", "Dead",          "PrepareEpochFence"};

void put_string(BigEndianWriter& w, std::string_view s) {
  w.i16(static_cast<int16_t>(s.size()));
  w.raw(s);
}

std::optional<std::string_view> get_string(BigEndianReader& r) {
  const int16_t n = r.i16();
  if (!r.ok() || n < 0) return std::nullopt;
  auto s = r.raw(static_cast<size_t>(n));
  if (!r.ok()) return std::nullopt;
  return s;
}

bool is_prepare(TxnState s) {
  return s == TxnState::kPrepareCommit || s == TxnState::kPrepareAbort ||
         s == TxnState::kPrepareEpochFence;
}

}  // namespace

std::string_view state_name(TxnState s) {
  const auto i = static_cast<size_t>(s);
  return i < kNames.size() ? kNames[i] : "Unknown";
}

std::optional<TxnState> state_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<TxnState>(i);
  }
  return std::nullopt;
}

std::string encode_key(std::string_view transactional_id) {
  BigEndianWriter w;
  w.i16(0);  // key version
  put_string(w, transactional_id);
  return w.take();
}

std::optional<std::string> decode_key(std::string_view key) {
  BigEndianReader r(key);
  if (r.i16() != 0 || !r.ok()) return std::nullopt;
  auto id = get_string(r);
  if (!id || !r.done()) return std::nullopt;
  return std::string(*id);
}

std::string encode_value(const TxnMetadata& m) {
  BigEndianWriter w;
  w.i16(0);  // value version
  w.i64(m.producer_id);
  w.i16(m.producer_epoch);
  w.i32(m.timeout_ms);
  w.u8(static_cast<uint8_t>(m.state));
  // TransactionPartitions: grouped by topic (the set is ordered by topic).
  std::vector<std::pair<std::string, std::vector<int32_t>>> topics;
  for (const auto& [topic, partition] : m.partitions) {
    if (topics.empty() || topics.back().first != topic) topics.push_back({topic, {}});
    topics.back().second.push_back(partition);
  }
  w.i32(static_cast<int32_t>(topics.size()));
  for (const auto& [topic, partitions] : topics) {
    put_string(w, topic);
    w.i32(static_cast<int32_t>(partitions.size()));
    for (int32_t p : partitions) w.i32(p);
  }
  w.i64(m.last_update_ms);
  w.i64(m.start_ms);
  return w.take();
}

std::optional<TxnMetadata> decode_value(std::string_view value) {
  BigEndianReader r(value);
  const int16_t version = r.i16();
  if (!r.ok() || version != 0) return std::nullopt;
  TxnMetadata m;
  m.producer_id = r.i64();
  m.producer_epoch = r.i16();
  m.timeout_ms = r.i32();
  const uint8_t state = r.u8();
  if (!r.ok() || state > static_cast<uint8_t>(TxnState::kPrepareEpochFence)) return std::nullopt;
  m.state = static_cast<TxnState>(state);
  const int32_t topics = r.i32();  // -1: null
  if (!r.ok() || topics < -1 || static_cast<size_t>(std::max(topics, 0)) > r.remaining()) {
    return std::nullopt;
  }
  for (int32_t t = 0; t < topics; ++t) {
    auto topic = get_string(r);
    const int32_t count = r.i32();
    if (!topic || !r.ok() || count < 0 || static_cast<size_t>(count) * 4 > r.remaining()) {
      return std::nullopt;
    }
    for (int32_t i = 0; i < count; ++i) m.partitions.emplace(std::string(*topic), r.i32());
  }
  m.last_update_ms = r.i64();
  m.start_ms = r.i64();
  if (!r.done()) return std::nullopt;
  return m;
}

Transition init_producer(const std::optional<TxnMetadata>& current, int32_t timeout_ms,
                         int64_t req_producer_id, int16_t req_epoch, int64_t now_ms) {
  Transition t;
  if (!current) {
    TxnMetadata m;
    m.timeout_ms = timeout_ms;
    m.state = TxnState::kEmpty;
    m.last_update_ms = now_ms;
    t.next = m;
    t.needs_new_producer_id = true;
    return t;
  }
  const TxnMetadata& m = *current;
  if (is_prepare(m.state)) {
    t.error = ErrorCode::kConcurrentTransactions;
    return t;
  }
  // KIP-360: a client recovering names its current id/epoch; anything but
  // the current (or the previous, for a retried bump) one is an old instance.
  if (req_producer_id >= 0) {
    const bool current_one = req_producer_id == m.producer_id && req_epoch == m.producer_epoch;
    const bool retried_bump =
        req_producer_id == m.last_producer_id && req_epoch == m.last_producer_epoch;
    if (!current_one && !retried_bump) {
      t.error = ErrorCode::kProducerFenced;
      return t;
    }
  }
  if (m.state == TxnState::kOngoing) {
    t.abort_first = true;  // fence and abort it, the client retries meanwhile
    t.error = ErrorCode::kConcurrentTransactions;
    return t;
  }
  TxnMetadata next = m;
  next.timeout_ms = timeout_ms;
  next.state = TxnState::kEmpty;
  next.partitions.clear();
  next.start_ms = -1;
  next.last_update_ms = now_ms;
  next.last_producer_id = m.producer_id;
  next.last_producer_epoch = m.producer_epoch;
  if (m.producer_epoch >= kLastBumpableEpoch || m.producer_id < 0) {
    t.needs_new_producer_id = true;
  } else {
    next.producer_epoch = static_cast<int16_t>(m.producer_epoch + 1);
  }
  t.next = next;
  return t;
}

ErrorCode check_producer(const TxnMetadata& m, int64_t producer_id, int16_t epoch) {
  if (producer_id != m.producer_id) return ErrorCode::kInvalidProducerIdMapping;
  if (epoch < m.producer_epoch) return ErrorCode::kProducerFenced;
  if (epoch > m.producer_epoch) return ErrorCode::kInvalidProducerEpoch;
  return ErrorCode::kNone;
}

Transition add_partitions_to(const TxnMetadata& m, int64_t producer_id, int16_t epoch,
                             const std::vector<TopicPartition>& partitions, int64_t now_ms) {
  Transition t;
  if (ErrorCode e = check_producer(m, producer_id, epoch); e != ErrorCode::kNone) {
    t.error = e;
    return t;
  }
  if (is_prepare(m.state)) {
    t.error = ErrorCode::kConcurrentTransactions;
    return t;
  }
  if (m.state == TxnState::kDead) {
    t.error = ErrorCode::kInvalidTxnState;
    return t;
  }
  TxnMetadata next = m;
  if (m.state != TxnState::kOngoing) {
    next.partitions.clear();
    next.start_ms = now_ms;
  }
  bool added = m.state != TxnState::kOngoing;
  for (const auto& tp : partitions) added |= next.partitions.insert(tp).second;
  next.state = TxnState::kOngoing;
  next.last_update_ms = now_ms;
  if (added) t.next = next;  // a retry adding nothing new writes nothing
  return t;
}

Transition end_transaction(const TxnMetadata& m, int64_t producer_id, int16_t epoch, bool commit,
                           int64_t now_ms) {
  Transition t;
  // A retried EndTxn after the coordinator bumped the epoch on its own is
  // still fenced: the client learns its transaction was aborted.
  if (ErrorCode e = check_producer(m, producer_id, epoch); e != ErrorCode::kNone) {
    t.error = e;
    return t;
  }
  switch (m.state) {
    case TxnState::kOngoing: {
      TxnMetadata next = m;
      next.state = commit ? TxnState::kPrepareCommit : TxnState::kPrepareAbort;
      next.last_update_ms = now_ms;
      t.next = next;
      return t;
    }
    case TxnState::kCompleteCommit:
      if (!commit) t.error = ErrorCode::kInvalidTxnState;
      return t;
    case TxnState::kCompleteAbort:
      if (commit) t.error = ErrorCode::kInvalidTxnState;
      return t;
    case TxnState::kPrepareCommit:
      t.error = commit ? ErrorCode::kConcurrentTransactions : ErrorCode::kInvalidTxnState;
      return t;
    case TxnState::kPrepareAbort:
      t.error = commit ? ErrorCode::kInvalidTxnState : ErrorCode::kConcurrentTransactions;
      return t;
    case TxnState::kEmpty:
      // Kafka answers an abort of nothing with success (the client may end
      // a transaction that never added a partition) and a commit likewise.
      return t;
    default:
      t.error = ErrorCode::kInvalidTxnState;
      return t;
  }
}

TxnMetadata begin_abort(const TxnMetadata& m, bool bump_epoch, int64_t now_ms) {
  TxnMetadata next = m;
  if (bump_epoch && m.producer_epoch < kLastBumpableEpoch) {
    next.last_producer_id = m.producer_id;
    next.last_producer_epoch = m.producer_epoch;
    next.producer_epoch = static_cast<int16_t>(m.producer_epoch + 1);
  }
  next.state = TxnState::kPrepareAbort;
  next.last_update_ms = now_ms;
  return next;
}

TxnMetadata complete(const TxnMetadata& m, int64_t now_ms) {
  TxnMetadata next = m;
  next.state =
      m.state == TxnState::kPrepareCommit ? TxnState::kCompleteCommit : TxnState::kCompleteAbort;
  next.partitions.clear();
  next.last_update_ms = now_ms;
  return next;
}

ErrorCode verify_partition(const TxnMetadata& m, int64_t producer_id, int16_t epoch,
                           const TopicPartition& tp) {
  if (producer_id != m.producer_id) return ErrorCode::kInvalidProducerIdMapping;
  if (epoch != m.producer_epoch) return ErrorCode::kInvalidProducerEpoch;
  if (m.state != TxnState::kOngoing || !m.partitions.count(tp)) return ErrorCode::kInvalidTxnState;
  return ErrorCode::kNone;
}

bool timed_out(const TxnMetadata& m, int64_t now_ms) {
  return m.state == TxnState::kOngoing && m.start_ms >= 0 && now_ms - m.start_ms > m.timeout_ms;
}

ErrorCode fenced_for_version(ErrorCode e, int16_t version, int16_t first_version_with_fenced) {
  if (e == ErrorCode::kProducerFenced && version < first_version_with_fenced) {
    return ErrorCode::kInvalidProducerEpoch;
  }
  return e;
}

}  // namespace dmq::txn
