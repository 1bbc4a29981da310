#include "client/records.h"

#include "client/error.h"
#include "common/batch_layout.h"
#include "common/crc32c.h"
#include "kafka/protocol/record_filter.h"

namespace dmq::client {
namespace {

namespace bf = batch_layout;
using kafka::BatchError;
using kafka::Compression;

// Header fields patched in place; big-endian like everything in a batch.
void put_be(char* at, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) at[i] = static_cast<char>(value >> (8 * (bytes - 1 - i)));
}

}  // namespace

std::optional<Compression> parse_compression(std::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "gzip") return Compression::kGzip;
  if (name == "lz4") return Compression::kLz4;
  if (name == "zstd") return Compression::kZstd;
  return std::nullopt;
}

std::string compress_batch(const std::string& batch, Compression codec) {
  if (codec == Compression::kNone) return batch;
  std::string_view payload = std::string_view(batch).substr(bf::kHeaderSize);
  std::string packed;
  if (kafka::compress_records(codec, payload, packed) != kafka::BatchError::kOk) {
    throw ClientError("cannot compress a batch with codec " +
                      std::to_string(static_cast<int>(codec)));
  }
  std::string out = batch.substr(0, bf::kHeaderSize) + packed;
  kafka::BatchHeader h;
  kafka::read_batch_header(batch, h);
  auto attributes =
      static_cast<uint16_t>((h.attributes & ~bf::kCompressionMask) | static_cast<int16_t>(codec));
  put_be(out.data() + bf::kAttributes, attributes, 2);
  put_be(out.data() + bf::kBatchLength, static_cast<uint32_t>(out.size() - bf::kLogOverhead), 4);
  uint32_t crc = crc32c_extend(0, out.data() + bf::kAttributes, out.size() - bf::kAttributes);
  put_be(out.data() + bf::kCrc, crc, 4);
  return out;
}

BatchWalk walk_records(std::string_view bytes, std::string_view topic, int32_t partition,
                       int64_t from_offset, const std::function<bool(const Message&)>& on_record) {
  BatchWalk walk;
  std::string plain;
  while (bytes.size() >= bf::kHeaderSize) {
    kafka::BatchHeader h;
    walk.error = kafka::read_batch_header(bytes, h);
    if (walk.error != BatchError::kOk) return walk;
    if (h.batch_length < 0 || h.total_size() > bytes.size()) break;  // cut at max_bytes
    std::string_view batch = bytes.substr(0, h.total_size());
    bytes.remove_prefix(h.total_size());
    walk.next_offset = h.last_offset() + 1;
    if (h.is_control() || h.last_offset() < from_offset) continue;
    plain.clear();
    walk.error = kafka::decompress_records(batch, plain);
    if (walk.error != BatchError::kOk) return walk;
    kafka::RecordIterator it(plain, h.record_count);
    kafka::Record r;
    while (it.next(r)) {
      int64_t offset = h.base_offset + r.offset_delta;
      if (offset < from_offset) continue;
      int64_t ts = h.is_log_append_time() ? h.max_timestamp : h.base_timestamp + r.timestamp_delta;
      Message m{topic, partition, offset, ts, r.key, r.value, std::move(r.headers)};
      ++walk.records;
      if (!on_record(m)) {
        walk.next_offset = offset + 1;
        return walk;
      }
    }
    walk.error = it.error();
    if (walk.error != BatchError::kOk) return walk;
  }
  return walk;
}

}  // namespace dmq::client
