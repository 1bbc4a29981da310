#include <unistd.h>

#include <cerrno>

#include "broker/txn_index.h"
#include "group/coordinator_internal.h"
#include "kafka/protocol/record_batch.h"

namespace dmq::group {

bool read_chunk(const broker::RecordChunk& chunk, std::string& out) {
  if (chunk.fd < 0) {
    out = chunk.bytes;
    return true;
  }
  out.resize(chunk.length);
  size_t done = 0;
  while (done < chunk.length) {
    ssize_t n = ::pread(chunk.fd, out.data() + done, chunk.length - done,
                        static_cast<off_t>(chunk.position + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

namespace {

void apply_record(const OffsetsRecord& r, const kafka::BatchHeader& h, LoadState& state) {
  if (r.kind != OffsetsRecord::Kind::kOffset) {
    state.meta[r.group_id] = r.group;
  } else if (!h.is_transactional()) {
    state.offsets[r.group_id][r.tp] = r.offset;
  } else if (r.offset) {
    state.pending_txn[h.producer_id][r.group_id][r.tp] = *r.offset;
  }
}

// A producer's COMMIT makes its pending offsets the groups' committed
// offsets, in log order: a later plain commit overrides them as usual.
void apply_marker(std::string_view batch, const kafka::BatchHeader& h, LoadState& state) {
  auto type = broker::control_type_of(batch);
  if (!type) {
    state.skipped++;
    return;
  }
  auto it = state.pending_txn.find(h.producer_id);
  if (it == state.pending_txn.end()) return;
  if (*type == broker::ControlType::kCommit) {
    for (auto& [group_id, tps] : it->second) {
      for (auto& [tp, o] : tps) state.offsets[group_id][tp] = std::move(o);
    }
  }
  state.pending_txn.erase(it);
}

void apply_batch(std::string_view batch, const kafka::BatchHeader& h, LoadState& state) {
  std::string payload;
  if (kafka::decompress_records(batch, payload) != kafka::BatchError::kOk) {
    state.skipped++;
    return;
  }
  kafka::RecordIterator it(payload, h.record_count);
  kafka::Record rec;
  while (it.next(rec)) {
    const int64_t offset = h.base_offset + rec.offset_delta;
    if (offset < state.next || offset >= state.end) continue;
    auto decoded = decode_offsets_record(rec.key, rec.value);
    if (!decoded) {
      state.skipped++;
      continue;
    }
    apply_record(*decoded, h, state);
    state.records++;
  }
  if (it.error() != kafka::BatchError::kOk) state.skipped++;
}

}  // namespace

void apply_batches(std::string_view bytes, LoadState& state) {
  size_t pos = 0;
  int64_t next = state.next;
  while (bytes.size() - pos >= batch_layout::kHeaderSize) {
    kafka::BatchHeader h;
    if (kafka::read_batch_header(bytes.substr(pos), h) != kafka::BatchError::kOk) break;
    if (h.batch_length <= 0) break;
    const size_t total = h.total_size();
    if (total > bytes.size() - pos) break;  // a partial batch at the end of the chunk
    if (h.last_offset() >= state.next) {
      if (h.is_control()) {
        apply_marker(bytes.substr(pos, total), h, state);
      } else {
        apply_batch(bytes.substr(pos, total), h, state);
      }
    }
    next = std::max(next, h.last_offset() + 1);
    pos += total;
  }
  state.next = next;
}

}  // namespace dmq::group
