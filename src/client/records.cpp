#include "client/records.h"

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include "client/error.h"
#include "common/batch_layout.h"
#include "common/crc32c.h"
#include "kafka/protocol/record_walk.h"

namespace dmq::client {
namespace {

namespace bf = batch_layout;
using kafka::BatchError;
using kafka::Compression;

std::string gzip(std::string_view in) {
  z_stream s{};
  // 15 + 16: a gzip wrapper, which is what Kafka's gzip codec expects.
  if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw ClientError("gzip: cannot initialise zlib");
  }
  std::string out(deflateBound(&s, static_cast<uLong>(in.size())) + 32, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&s, Z_FINISH);
  out.resize(out.size() - s.avail_out);
  deflateEnd(&s);
  if (rc != Z_STREAM_END) throw ClientError("gzip: compression failed");
  return out;
}

std::string lz4(std::string_view in) {
  LZ4F_preferences_t prefs{};
  std::string out(LZ4F_compressFrameBound(in.size(), &prefs), '\0');
  size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) throw ClientError(std::string("lz4: ") + LZ4F_getErrorName(n));
  out.resize(n);
  return out;
}

std::string zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  if (ZSTD_isError(n)) throw ClientError(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

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
  std::string packed = codec == Compression::kGzip  ? gzip(payload)
                       : codec == Compression::kLz4 ? lz4(payload)
                                                    : zstd(payload);
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
