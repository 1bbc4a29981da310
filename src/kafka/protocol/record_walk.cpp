#include "kafka/protocol/record_walk.h"

namespace dmq::kafka {

RecordWalk walk_records(std::string_view bytes, int64_t from_offset,
                        const std::function<bool(const RecordInLog&)>& on_record) {
  RecordWalk walk;
  std::string plain;
  while (bytes.size() >= batch_layout::kHeaderSize) {
    BatchHeader h;
    walk.error = read_batch_header(bytes, h);
    if (walk.error != BatchError::kOk) return walk;
    if (h.batch_length < 0 || h.total_size() > bytes.size()) break;  // cut at max_bytes
    std::string_view batch = bytes.substr(0, h.total_size());
    bytes.remove_prefix(h.total_size());
    walk.next_offset = h.last_offset() + 1;
    if (h.is_control() || h.last_offset() < from_offset) continue;
    plain.clear();
    walk.error = decompress_records(batch, plain);
    if (walk.error != BatchError::kOk) return walk;
    RecordIterator it(plain, h.record_count);
    Record r;
    while (it.next(r)) {
      const int64_t offset = h.base_offset + r.offset_delta;
      if (offset < from_offset) continue;
      const int64_t ts =
          h.is_log_append_time() ? h.max_timestamp : h.base_timestamp + r.timestamp_delta;
      ++walk.records;
      if (!on_record(RecordInLog{offset, ts, r})) {
        walk.next_offset = offset + 1;
        return walk;
      }
    }
    walk.error = it.error();
    if (walk.error != BatchError::kOk) return walk;
  }
  return walk;
}

OwnedRecord to_owned(const RecordInLog& r) {
  OwnedRecord out;
  out.offset = r.offset;
  out.timestamp_ms = r.timestamp_ms;
  if (r.record.key) out.key = std::string(*r.record.key);
  if (r.record.value) out.value = std::string(*r.record.value);
  out.headers.reserve(r.record.headers.size());
  for (const auto& h : r.record.headers)
    out.headers.emplace_back(std::string(h.key),
                             h.value ? std::optional<std::string>(*h.value) : std::nullopt);
  return out;
}

std::vector<OwnedRecord> decode_records(std::string_view bytes, int64_t from_offset, size_t max) {
  std::vector<OwnedRecord> out;
  if (max == 0) return out;
  walk_records(bytes, from_offset, [&out, max](const RecordInLog& r) {
    out.push_back(to_owned(r));
    return out.size() < max;
  });
  return out;
}

}  // namespace dmq::kafka
