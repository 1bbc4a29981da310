// decompress_records() (declared in record_batch.h): gzip via zlib, LZ4 frame
// via liblz4, zstd via libzstd. Kept apart from the validator because the
// produce path never decompresses; only record readers do.

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>

#include "kafka/protocol/record_batch.h"

namespace dmq::kafka {
namespace {

constexpr size_t kChunk = 64 * 1024;

BatchError inflate_gzip(std::string_view in, std::string& out, size_t max_out) {
  z_stream s{};
  // 15 + 32: zlib window with automatic gzip/zlib header detection.
  if (inflateInit2(&s, 15 + 32) != Z_OK) return BatchError::kDecompression;
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    size_t old = out.size();
    if (old >= max_out) break;
    out.resize(std::min(old + kChunk, max_out));
    s.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    s.avail_out = static_cast<uInt>(out.size() - old);
    rc = inflate(&s, Z_NO_FLUSH);
    out.resize(out.size() - s.avail_out);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
  }
  inflateEnd(&s);
  return rc == Z_STREAM_END ? BatchError::kOk : BatchError::kDecompression;
}

BatchError decompress_lz4(std::string_view in, std::string& out, size_t max_out) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) {
    return BatchError::kDecompression;
  }
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> ctx(
      raw, &LZ4F_freeDecompressionContext);
  const char* src = in.data();
  size_t src_left = in.size();
  size_t hint = 1;
  while (hint != 0) {
    size_t old = out.size();
    if (old >= max_out || src_left == 0) return BatchError::kDecompression;
    out.resize(std::min(old + kChunk, max_out));
    size_t dst_size = out.size() - old;
    size_t src_size = src_left;
    hint = LZ4F_decompress(ctx.get(), out.data() + old, &dst_size, src, &src_size, nullptr);
    out.resize(old + dst_size);
    if (LZ4F_isError(hint)) return BatchError::kDecompression;
    src += src_size;
    src_left -= src_size;
    if (hint != 0 && src_size == 0 && dst_size == 0) return BatchError::kDecompression;
  }
  return BatchError::kOk;
}

BatchError decompress_zstd(std::string_view in, std::string& out, size_t max_out) {
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> ds(ZSTD_createDStream(),
                                                                &ZSTD_freeDStream);
  if (!ds) return BatchError::kDecompression;
  ZSTD_initDStream(ds.get());
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t ret = 1;
  while (ret != 0) {
    size_t old = out.size();
    if (old >= max_out) return BatchError::kDecompression;
    out.resize(std::min(old + kChunk, max_out));
    ZSTD_outBuffer output{out.data() + old, out.size() - old, 0};
    ret = ZSTD_decompressStream(ds.get(), &output, &input);
    out.resize(old + output.pos);
    if (ZSTD_isError(ret)) return BatchError::kDecompression;
    if (ret != 0 && input.pos == input.size && output.pos == 0) return BatchError::kDecompression;
  }
  return BatchError::kOk;
}

}  // namespace

BatchError decompress_records(std::string_view batch, std::string& out, size_t max_output_bytes) {
  out.clear();
  BatchHeader h;
  if (auto e = read_batch_header(batch, h); e != BatchError::kOk) return e;
  if (h.batch_length < static_cast<int32_t>(batch_layout::kHeaderSize - batch_layout::kLogOverhead))
    return BatchError::kBadLength;
  if (h.total_size() > batch.size()) return BatchError::kTruncated;
  std::string_view payload =
      batch.substr(batch_layout::kHeaderSize, h.total_size() - batch_layout::kHeaderSize);
  return decompress(h.compression(), payload, out, max_output_bytes);
}

BatchError decompress(Compression codec, std::string_view payload, std::string& out,
                      size_t max_output_bytes) {
  out.clear();
  switch (codec) {
    case Compression::kNone:
      if (payload.size() > max_output_bytes) return BatchError::kDecompression;
      out.assign(payload);
      return BatchError::kOk;
    case Compression::kGzip:
      return inflate_gzip(payload, out, max_output_bytes);
    case Compression::kLz4:
      return decompress_lz4(payload, out, max_output_bytes);
    case Compression::kZstd:
      return decompress_zstd(payload, out, max_output_bytes);
    case Compression::kSnappy:
      break;
  }
  return BatchError::kUnsupportedCompression;
}

}  // namespace dmq::kafka
