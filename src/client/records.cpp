#include "client/records.h"

#include "client/error.h"
#include "common/batch_layout.h"
#include "common/crc32c.h"
#include "kafka/protocol/record_filter.h"
#include "kafka/protocol/record_walk.h"

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
  auto walk = kafka::walk_records(bytes, from_offset, [&](const kafka::RecordInLog& r) {
    return on_record(Message{topic, partition, r.offset, r.timestamp_ms, r.record.key,
                             r.record.value, r.record.headers});
  });
  return BatchWalk{walk.error, walk.next_offset, walk.records};
}

}  // namespace dmq::client
