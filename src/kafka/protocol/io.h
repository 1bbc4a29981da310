#pragma once
// Byte-level reading and writing of the Kafka wire encodings, and the two
// "IO" adapters that let one serde function per message both decode and encode
// it (see messages.h for the pattern).
//
// Reader: bounds-checked, never throws, never allocates. The first failure is
// sticky: it records a CodecError, empties the remaining input, and every
// later read returns zero, so a decoder can run to the end and check ok() once.
// Lengths and counts from the input are checked against the remaining bytes
// before anything is reserved.
//
// Writer: appends to an owned std::string; can patch an int32 placeholder later
// (frame sizes) and can leave "splices": holes of a known length that the sender
// fills from elsewhere (a file range or another buffer), so Fetch responses are
// sent without copying record data.
//
// Threading: a Reader/Writer is used by one thread at a time.

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/assert.h"
#include "kafka/protocol/error_code.h"

namespace dmq::kafka {

enum class CodecError : uint8_t {
  kOk = 0,
  kTruncated,           // input ended inside a field
  kBadLength,           // negative length/count other than the null marker
  kUnexpectedNull,      // null in a non-nullable field
  kBadVarint,           // varint longer than its type allows
  kTooManyElements,     // array count larger than the bytes left could hold
  kUnsupportedVersion,  // API version outside the supported range
  kUnknownApiKey,       // API key DMQ does not implement
  kInvalidValue,        // a value the schema does not allow (e.g. bad frame size)
};

std::string_view codec_error_name(CodecError error);

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool is_zero() const {
    for (auto b : bytes)
      if (b != 0) return false;
    return true;
  }
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// The `records` field of Produce requests and Fetch responses.
// - After decoding, `bytes` views the input buffer (no copy); the caller keeps
//   that buffer alive and may modify the batches in place (see mutable_bytes()).
// - For encoding, either `bytes` (borrowed, must outlive the encode call) or an
//   external range of `external_length` bytes that the encoder leaves as a
//   splice tagged with `external_id` for the sender to fill (e.g. sendfile).
struct Records {
  enum class Kind : uint8_t { kNull, kBytes, kExternal };
  Kind kind = Kind::kBytes;
  std::string_view bytes;
  uint64_t external_id = 0;
  uint32_t external_length = 0;

  static Records null() { return Records{Kind::kNull, {}, 0, 0}; }
  static Records view(std::string_view b) { return Records{Kind::kBytes, b, 0, 0}; }
  static Records external(uint64_t id, uint32_t length) {
    return Records{Kind::kExternal, {}, id, length};
  }
  bool is_null() const { return kind == Kind::kNull; }
  size_t size() const { return kind == Kind::kExternal ? external_length : bytes.size(); }
};

// A hole in an encoded frame: `length` bytes to insert before byte `offset` of
// EncodedFrame::bytes, identified by the caller's `id`.
struct Splice {
  size_t offset = 0;
  uint32_t length = 0;
  uint64_t id = 0;
};

// An encoded frame, including its 4-byte size prefix. To send it, write
// bytes[0, s0.offset), then splice s0's data, then bytes[s0.offset, s1.offset),
// ... and finally the rest of `bytes`. Splices are in ascending offset order.
struct EncodedFrame {
  std::string bytes;
  std::vector<Splice> splices;
  size_t total_size() const {
    size_t n = bytes.size();
    for (const auto& s : splices) n += s.length;
    return n;
  }
};

class Reader {
 public:
  explicit Reader(std::string_view input)
      : begin_(input.data()), p_(input.data()), end_(input.data() + input.size()) {}

  bool ok() const { return error_ == CodecError::kOk; }
  CodecError error() const { return error_; }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  void fail(CodecError error) {
    if (ok()) error_ = error;
    p_ = end_;
  }

  int8_t i8() { return static_cast<int8_t>(be<uint8_t>()); }
  int16_t i16() { return static_cast<int16_t>(be<uint16_t>()); }
  int32_t i32() { return static_cast<int32_t>(be<uint32_t>()); }
  int64_t i64() { return static_cast<int64_t>(be<uint64_t>()); }
  uint16_t u16() { return be<uint16_t>(); }
  uint32_t u32() { return be<uint32_t>(); }
  double f64() {
    uint64_t bits = be<uint64_t>();
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  uint32_t uvarint() { return static_cast<uint32_t>(uvar(5)); }
  uint64_t uvarlong() { return uvar(10); }
  int32_t varint() {  // zig-zag
    uint32_t u = uvarint();
    return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  int64_t varlong() {  // zig-zag
    uint64_t u = uvarlong();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  // The next `n` bytes as a view of the input; empty view and failure if fewer remain.
  std::string_view take(size_t n) {
    if (n > remaining()) {
      fail(CodecError::kTruncated);
      return {};
    }
    std::string_view v(p_, n);
    p_ += n;
    return v;
  }
  void skip(size_t n) { take(n); }

 private:
  template <class U>
  U be() {
    if (remaining() < sizeof(U)) {
      fail(CodecError::kTruncated);
      return 0;
    }
    U v = 0;
    for (size_t i = 0; i < sizeof(U); ++i)
      v = static_cast<U>((v << 8) | static_cast<uint8_t>(p_[i]));
    p_ += sizeof(U);
    return v;
  }
  uint64_t uvar(int max_bytes) {
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; ++i) {
      if (p_ == end_) {
        fail(CodecError::kTruncated);
        return 0;
      }
      auto b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) return v;
    }
    fail(CodecError::kBadVarint);
    return 0;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  CodecError error_ = CodecError::kOk;
};

class Writer {
 public:
  Writer() = default;
  explicit Writer(size_t reserve) { buf_.reserve(reserve); }

  size_t size() const { return buf_.size(); }
  const std::string& bytes() const { return buf_; }

  void i8(int8_t v) { buf_.push_back(static_cast<char>(v)); }
  void i16(int16_t v) { be(static_cast<uint16_t>(v)); }
  void i32(int32_t v) { be(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { be(static_cast<uint64_t>(v)); }
  void u16(uint16_t v) { be(v); }
  void u32(uint32_t v) { be(v); }
  void f64(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    be(bits);
  }
  void uvarint(uint32_t v) { uvar(v); }
  void uvarlong(uint64_t v) { uvar(v); }
  void varint(int32_t v) {
    uvar(static_cast<uint32_t>((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)));
  }
  void varlong(int64_t v) {
    uvar((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void raw(std::string_view b) { buf_.append(b.data(), b.size()); }

  // Reserves an int32 to be filled by patch_i32(); returns its position.
  size_t placeholder_i32() {
    size_t at = buf_.size();
    i32(0);
    return at;
  }
  void patch_i32(size_t at, int32_t v) {
    DMQ_ASSERT(at + 4 <= buf_.size());
    auto u = static_cast<uint32_t>(v);
    for (int i = 0; i < 4; ++i) buf_[at + i] = static_cast<char>(u >> (24 - 8 * i));
  }

  // Leaves a hole of `length` bytes at the current position (see EncodedFrame).
  void splice(uint64_t id, uint32_t length) {
    splices_.push_back(Splice{buf_.size(), length, id});
    spliced_bytes_ += length;
  }
  size_t spliced_bytes() const { return spliced_bytes_; }

  EncodedFrame take() { return EncodedFrame{std::move(buf_), std::move(splices_)}; }
  std::string take_bytes() {
    DMQ_ASSERT(splices_.empty());
    return std::move(buf_);
  }

 private:
  template <class U>
  void be(U v) {
    char tmp[sizeof(U)];
    for (size_t i = 0; i < sizeof(U); ++i)
      tmp[i] = static_cast<char>(v >> (8 * (sizeof(U) - 1 - i)));
    buf_.append(tmp, sizeof(U));
  }
  void uvar(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<char>(v));
  }

  std::string buf_;
  std::vector<Splice> splices_;
  size_t spliced_bytes_ = 0;
};

// A mutable view of `view` (which must lie inside `frame`): lets a handler
// rewrite a decoded Produce batch in place in the frame buffer it owns.
inline char* mutable_bytes(std::string& frame, std::string_view view) {
  DMQ_ASSERT(view.data() >= frame.data());
  DMQ_ASSERT(view.data() + view.size() <= frame.data() + frame.size());
  return frame.data() + (view.data() - frame.data());
}

}  // namespace dmq::kafka
