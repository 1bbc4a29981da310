#include "broker/txn_index.h"

#include <algorithm>

#include "common/batch_layout.h"
#include "common/big_endian.h"
#include "kafka/protocol/record_batch.h"

namespace dmq::broker {

std::optional<ControlType> control_type_of(std::string_view batch) {
  kafka::BatchHeader h;
  if (kafka::read_batch_header(batch, h) != kafka::BatchError::kOk || !h.is_control()) {
    return std::nullopt;
  }
  std::string payload;
  if (kafka::decompress_records(batch.substr(0, std::min(batch.size(), h.total_size())), payload) !=
      kafka::BatchError::kOk) {
    return std::nullopt;
  }
  kafka::RecordIterator it(payload, h.record_count);
  kafka::Record r;
  if (!it.next(r) || !r.key) return std::nullopt;
  BigEndianReader key(*r.key);
  key.i16();  // version
  const int16_t type = key.i16();
  if (!key.ok()) return std::nullopt;
  if (type == 0) return ControlType::kAbort;
  if (type == 1) return ControlType::kCommit;
  return std::nullopt;
}

std::string build_control_batch(int64_t producer_id, int16_t producer_epoch, ControlType type,
                                int32_t coordinator_epoch, int64_t timestamp_ms) {
  kafka::RecordBatchBuilder::Options o;
  o.producer_id = producer_id;
  o.producer_epoch = producer_epoch;
  o.base_sequence = -1;
  o.attributes = batch_layout::kTransactionalBit | batch_layout::kControlBit;
  kafka::RecordBatchBuilder builder(o);
  BigEndianWriter key;
  key.i16(0);
  key.i16(static_cast<int16_t>(type));
  BigEndianWriter value;
  value.i16(0);
  value.i32(coordinator_epoch);
  builder.add(timestamp_ms, key.bytes(), value.bytes());
  return builder.build();
}

void TxnIndex::on_data(int64_t producer_id, int16_t producer_epoch, int64_t base_offset) {
  (void)producer_epoch;
  open_.emplace(producer_id, base_offset);  // keeps the first offset of an open one
}

void TxnIndex::on_marker(int64_t producer_id, int16_t producer_epoch, ControlType type,
                         int64_t offset) {
  auto& epoch = marker_epochs_[producer_id];
  epoch = std::max(epoch, producer_epoch);
  auto it = open_.find(producer_id);
  if (it == open_.end()) return;
  completing_[offset] = Completing{producer_id, it->second};
  if (type == ControlType::kAbort) aborted_.push_back({producer_id, it->second, offset});
  open_.erase(it);
}

void TxnIndex::advance(int64_t high_watermark) {
  completing_.erase(completing_.begin(), completing_.lower_bound(high_watermark));
}

int16_t TxnIndex::marker_epoch(int64_t producer_id) const {
  auto it = marker_epochs_.find(producer_id);
  return it == marker_epochs_.end() ? int16_t{-1} : it->second;
}

int64_t TxnIndex::last_stable_offset(int64_t high_watermark) const {
  int64_t lso = high_watermark;
  for (const auto& [id, first] : open_) lso = std::min(lso, first);
  for (auto it = completing_.lower_bound(high_watermark); it != completing_.end(); ++it) {
    lso = std::min(lso, it->second.first_offset);
  }
  return lso;
}

std::vector<AbortedTxn> TxnIndex::aborted_between(int64_t from, int64_t to) const {
  std::vector<AbortedTxn> out;
  auto it = std::lower_bound(aborted_.begin(), aborted_.end(), from,
                             [](const AbortedTxn& a, int64_t v) { return a.last_offset < v; });
  for (; it != aborted_.end(); ++it) {
    if (it->first_offset < to) out.push_back(*it);
  }
  return out;
}

void TxnIndex::truncate_from(int64_t offset) {
  std::erase_if(open_, [&](const auto& e) { return e.second >= offset; });
  for (auto it = completing_.lower_bound(offset); it != completing_.end();) {
    if (it->second.first_offset < offset) open_[it->second.producer_id] = it->second.first_offset;
    it = completing_.erase(it);
  }
  std::erase_if(aborted_, [&](const AbortedTxn& a) { return a.last_offset >= offset; });
}

void TxnIndex::forget_below(int64_t log_start_offset) {
  std::erase_if(aborted_, [&](const AbortedTxn& a) { return a.last_offset < log_start_offset; });
}

}  // namespace dmq::broker
