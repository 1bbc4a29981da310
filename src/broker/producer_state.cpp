#include "broker/producer_state.h"

#include <limits>

#include "common/assert.h"
#include "common/big_endian.h"
#include "common/crc32c.h"
#include "store/partition_log.h"

namespace dmq::broker {
namespace {

// Kafka's ProducerAppendInfo.inSequence: next == last + 1, with the wrap from
// INT32_MAX to 0 (sequences are int32 and wrap, DefaultRecordBatch).
bool in_sequence(int32_t last_sequence, int32_t next_sequence) {
  if (last_sequence == std::numeric_limits<int32_t>::max()) return next_sequence == 0;
  return next_sequence == last_sequence + 1;
}

// ---- serialized image --------------------------------------------------------
//
//   magic "DMQP" | u16 version (1) | u32 producer count
//   per producer, in ascending id order:
//     i64 producer id | i16 epoch | i64 last_update_ms | u8 batch count (1..5)
//     per batch, oldest first:
//       i32 first seq | i32 last seq | i64 first offset | i64 last offset | i64 max timestamp
//   u32 CRC-32C of everything before it
// All integers big-endian.
constexpr std::string_view kMagic = "DMQP";
constexpr uint16_t kVersion = 1;
constexpr size_t kBatchBytes = 4 + 4 + 8 + 8 + 8;
constexpr size_t kProducerHeadBytes = 8 + 2 + 8 + 1;

using Out = BigEndianWriter;
using In = BigEndianReader;

bool parse_entry(In& in, ProducerStateTable::ProducerEntry& entry) {
  entry.epoch = in.i16();
  entry.last_update_ms = in.i64();
  const uint8_t count = in.u8();
  if (!in.ok() || count == 0 || count > ProducerStateTable::kMaxCachedBatches) return false;
  if (in.remaining() < count * kBatchBytes) return false;
  for (uint8_t i = 0; i < count; ++i) {
    ProducerStateTable::BatchMetadata b;
    b.first_sequence = in.i32();
    b.last_sequence = in.i32();
    b.first_offset = in.i64();
    b.last_offset = in.i64();
    b.max_timestamp = in.i64();
    if (b.first_offset < 0 || b.last_offset < b.first_offset) return false;
    if (!entry.batches.empty() && entry.batches.back().last_offset >= b.first_offset) return false;
    entry.batches.push_back(b);
  }
  return in.ok();
}

}  // namespace

BatchIdentity batch_identity(const kafka::BatchHeader& header) {
  BatchIdentity id;
  id.producer_id = header.producer_id;
  id.producer_epoch = header.producer_epoch;
  id.base_sequence = header.base_sequence;
  id.last_sequence = header.last_sequence();
  id.base_offset = header.base_offset;
  id.last_offset = header.last_offset();
  id.max_timestamp = header.max_timestamp;
  return id;
}

kafka::ErrorCode to_error_code(SequenceVerdict verdict) {
  switch (verdict) {
    case SequenceVerdict::kAppend:
    case SequenceVerdict::kDuplicate:
      return kafka::ErrorCode::kNone;
    case SequenceVerdict::kOutOfOrder:
      return kafka::ErrorCode::kOutOfOrderSequenceNumber;
    case SequenceVerdict::kFencedEpoch:
      return kafka::ErrorCode::kInvalidProducerEpoch;
  }
  return kafka::ErrorCode::kUnknownServerError;
}

SequenceCheck ProducerStateTable::check(const BatchIdentity& batch) const {
  if (batch.producer_id < 0) return {};
  auto it = producers_.find(batch.producer_id);
  if (it == producers_.end()) return {};  // KIP-360: unknown producers start anywhere
  const ProducerEntry& entry = it->second;
  DMQ_ASSERT(!entry.batches.empty());
  if (batch.producer_epoch < entry.epoch) return {SequenceVerdict::kFencedEpoch};
  if (batch.producer_epoch > entry.epoch) {
    // A new epoch restarts the sequences at 0 (KIP-360 epoch bump).
    if (batch.base_sequence == 0) return {};
    return {SequenceVerdict::kOutOfOrder};
  }
  // Same epoch: a retry of one of the cached batches is a duplicate
  // (ProducerStateEntry.findDuplicateBatch matches both ends).
  for (const BatchMetadata& b : entry.batches) {
    if (b.first_sequence == batch.base_sequence && b.last_sequence == batch.last_sequence) {
      return {SequenceVerdict::kDuplicate, b.first_offset, b.last_offset, b.max_timestamp};
    }
  }
  if (in_sequence(entry.batches.back().last_sequence, batch.base_sequence)) return {};
  return {SequenceVerdict::kOutOfOrder};
}

void ProducerStateTable::record(const BatchIdentity& batch, int64_t now_ms) {
  if (batch.producer_id < 0) return;
  ProducerEntry& entry = producers_[batch.producer_id];
  if (entry.batches.empty() || entry.epoch != batch.producer_epoch) {
    // A new entry, or another epoch: the cache holds one epoch's batches.
    entry.epoch = batch.producer_epoch;
    entry.batches.clear();
  }
  entry.batches.push_back({batch.base_sequence, batch.last_sequence, batch.base_offset,
                           batch.last_offset, batch.max_timestamp});
  if (entry.batches.size() > kMaxCachedBatches) entry.batches.pop_front();
  entry.last_update_ms = now_ms;
}

void ProducerStateTable::truncate_from(int64_t offset) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    auto& batches = it->second.batches;
    while (!batches.empty() && batches.back().last_offset >= offset) batches.pop_back();
    it = batches.empty() ? producers_.erase(it) : std::next(it);
  }
}

size_t ProducerStateTable::expire(int64_t now_ms, int64_t producer_id_expiration_ms) {
  size_t dropped = 0;
  for (auto it = producers_.begin(); it != producers_.end();) {
    if (now_ms - it->second.last_update_ms >= producer_id_expiration_ms) {
      it = producers_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

const ProducerStateTable::ProducerEntry* ProducerStateTable::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

std::string ProducerStateTable::serialize() const {
  Out out;
  out.raw(kMagic);
  out.u16(kVersion);
  out.u32(static_cast<uint32_t>(producers_.size()));
  for (const auto& [id, entry] : producers_) {
    DMQ_ASSERT(!entry.batches.empty());
    DMQ_ASSERT(entry.batches.size() <= kMaxCachedBatches);
    out.i64(id);
    out.i16(entry.epoch);
    out.i64(entry.last_update_ms);
    out.u8(static_cast<uint8_t>(entry.batches.size()));
    for (const BatchMetadata& b : entry.batches) {
      out.i32(b.first_sequence);
      out.i32(b.last_sequence);
      out.i64(b.first_offset);
      out.i64(b.last_offset);
      out.i64(b.max_timestamp);
    }
  }
  out.u32(crc32c(out.bytes()));
  return std::move(out.bytes());
}

std::optional<ProducerStateTable> ProducerStateTable::parse(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 2 + 4 + 4) return std::nullopt;
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  In crc_in(bytes.substr(body.size()));
  if (crc_in.u32() != crc32c(body)) return std::nullopt;

  In in(body);
  if (in.raw(kMagic.size()) != kMagic || in.u16() != kVersion) return std::nullopt;
  const uint32_t count = in.u32();
  // Each producer takes at least one batch: bound the count before looping.
  if (!in.ok() || count > in.remaining() / (kProducerHeadBytes + kBatchBytes)) return std::nullopt;
  ProducerStateTable table;
  int64_t previous_id = -1;
  for (uint32_t i = 0; i < count; ++i) {
    const int64_t id = in.i64();
    if (!in.ok() || id <= previous_id) return std::nullopt;  // ids ascend, none negative
    ProducerEntry entry;
    if (!parse_entry(in, entry)) return std::nullopt;
    table.producers_.emplace(id, std::move(entry));
    previous_id = id;
  }
  if (!in.ok() || in.remaining() != 0) return std::nullopt;
  return table;
}

// ---- rebuild from the log ---------------------------------------------------------

bool record_batches(std::string_view batches, int64_t now_ms, ProducerStateTable& table,
                    int64_t from_offset, TxnIndex* txns) {
  while (!batches.empty()) {
    kafka::BatchHeader h;
    if (kafka::read_batch_header(batches, h) != kafka::BatchError::kOk || h.batch_length < 0 ||
        h.total_size() < batch_layout::kHeaderSize || h.total_size() > batches.size()) {
      return false;
    }
    if (h.producer_id >= 0 && !h.is_control() && h.last_offset() >= from_offset) {
      table.record(batch_identity(h), now_ms);
    }
    if (txns && h.producer_id >= 0 && h.is_transactional() && h.last_offset() >= from_offset) {
      if (!h.is_control()) {
        txns->on_data(h.producer_id, h.producer_epoch, h.base_offset);
      } else if (auto type = control_type_of(batches.substr(0, h.total_size()))) {
        txns->on_marker(h.producer_id, h.producer_epoch, *type, h.base_offset);
      }
    }
    batches.remove_prefix(h.total_size());
  }
  return true;
}

store::LogResult<store::Offset> rebuild_producer_state(const store::PartitionLog& log,
                                                       store::Offset from, int64_t now_ms,
                                                       ProducerStateTable& table, TxnIndex* txns) {
  constexpr uint64_t kReadBytes = uint64_t{1} << 20;
  store::Offset next = std::max(from, log.log_start_offset());
  std::string bytes;
  while (true) {
    auto r = log.read(next, kReadBytes);
    if (!r.ok()) return r.status();
    const store::ReadResult& read = r.value();
    if (read.slice.length == 0) return next;  // at the log end
    if (auto s = store::PartitionLog::read_into(read.slice, &bytes); !s.ok()) {
      return store::LogStatus{store::LogError::kStorageFailed, s.message};
    }
    if (!record_batches(bytes, now_ms, table, from.value, txns)) {
      return store::LogStatus{store::LogError::kCorruptBatch,
                              "producer state: unreadable batch header in the log"};
    }
    if (read.next_offset <= next) {
      return store::LogStatus{store::LogError::kCorruptBatch,
                              "producer state: read made no progress"};
    }
    next = read.next_offset;
  }
}

}  // namespace dmq::broker
