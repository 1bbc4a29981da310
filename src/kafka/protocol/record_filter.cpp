#include "kafka/protocol/record_filter.h"

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include "common/crc32c.h"

namespace dmq::kafka {
namespace {

void put_be32(char* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xFF);
}

// Reads a zigzag varint (a record's length prefix); false when malformed.
bool read_varint(std::string_view& in, int64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *out = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
      return true;
    }
  }
  return false;
}

// Splits an uncompressed records payload into the raw bytes of each record.
template <typename Fn>
BatchError for_each_raw_record(std::string_view payload, int32_t count, Fn&& fn) {
  for (int32_t i = 0; i < count; ++i) {
    std::string_view rest = payload;
    int64_t length = 0;
    if (!read_varint(rest, &length) || length < 0 || static_cast<uint64_t>(length) > rest.size()) {
      return BatchError::kBadRecord;
    }
    const size_t raw_size = payload.size() - rest.size() + static_cast<size_t>(length);
    std::string_view raw = payload.substr(0, raw_size);
    payload.remove_prefix(raw_size);
    RecordIterator it(raw, 1);
    Record record;
    if (!it.next(record)) return BatchError::kBadRecord;
    fn(raw, record);
  }
  return BatchError::kOk;
}

BatchError deflate_gzip(std::string_view in, std::string& out) {
  z_stream s{};
  // 15 + 16: a gzip header, as Kafka's GZIPOutputStream writes.
  if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return BatchError::kDecompression;
  out.resize(deflateBound(&s, static_cast<uLong>(in.size())) + 32);
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&s, Z_FINISH);
  out.resize(out.size() - s.avail_out);
  deflateEnd(&s);
  return rc == Z_STREAM_END ? BatchError::kOk : BatchError::kDecompression;
}

}  // namespace

BatchError compress_records(Compression codec, std::string_view records, std::string& out) {
  out.clear();
  switch (codec) {
    case Compression::kNone:
      out.assign(records);
      return BatchError::kOk;
    case Compression::kGzip:
      return deflate_gzip(records, out);
    case Compression::kLz4: {
      out.resize(LZ4F_compressFrameBound(records.size(), nullptr));
      size_t n =
          LZ4F_compressFrame(out.data(), out.size(), records.data(), records.size(), nullptr);
      if (LZ4F_isError(n)) return BatchError::kDecompression;
      out.resize(n);
      return BatchError::kOk;
    }
    case Compression::kZstd: {
      out.resize(ZSTD_compressBound(records.size()));
      size_t n = ZSTD_compress(out.data(), out.size(), records.data(), records.size(), 3);
      if (ZSTD_isError(n)) return BatchError::kDecompression;
      out.resize(n);
      return BatchError::kOk;
    }
    case Compression::kSnappy:
      break;
  }
  return BatchError::kUnsupportedCompression;
}

BatchError filter_records(std::string_view batch,
                          const std::function<bool(int64_t offset, const Record&)>& keep,
                          std::string& out, int32_t* kept, size_t max_output_bytes) {
  out.clear();
  *kept = 0;
  BatchHeader h;
  if (auto e = read_batch_header(batch, h); e != BatchError::kOk) return e;
  std::string payload;
  if (auto e = decompress_records(batch, payload, max_output_bytes); e != BatchError::kOk) return e;
  std::string retained;
  BatchError e =
      for_each_raw_record(payload, h.record_count, [&](std::string_view raw, const Record& r) {
        if (!keep(h.base_offset + r.offset_delta, r)) return;
        retained.append(raw);
        ++*kept;
      });
  if (e != BatchError::kOk) return e;
  if (*kept == 0) return BatchError::kOk;
  std::string compressed;
  if (auto c = compress_records(h.compression(), retained, compressed); c != BatchError::kOk) {
    return c;
  }
  out.assign(batch.substr(0, batch_layout::kHeaderSize));
  out.append(compressed);
  char* p = out.data();
  put_be32(p + batch_layout::kBatchLength,
           static_cast<uint32_t>(out.size() - batch_layout::kLogOverhead));
  put_be32(p + batch_layout::kRecordCount, static_cast<uint32_t>(*kept));
  put_be32(p + batch_layout::kCrc, crc32c(std::string_view(out).substr(batch_layout::kAttributes)));
  return BatchError::kOk;
}

}  // namespace dmq::kafka
