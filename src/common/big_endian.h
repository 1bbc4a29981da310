#pragma once
// Fixed-width big-endian integers for DMQ's own binary formats (the cluster
// records and snapshots via cluster/byte_codec.h, the producer-state image,
// __consumer_offsets keys and values). The reader never
// asserts on its input: once a read runs short it returns zeros / empty
// views from then on and ok() turns false, so a parser checks once at the end.

#include <cstdint>
#include <string>
#include <string_view>

namespace dmq {

class BigEndianWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void i16(int16_t v) { u16(static_cast<uint16_t>(v)); }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void raw(std::string_view s) { bytes_.append(s); }
  std::string& bytes() { return bytes_; }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  void put(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string bytes_;
};

class BigEndianReader {
 public:
  explicit BigEndianReader(std::string_view bytes) : rest_(bytes) {}
  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint16_t u16() { return static_cast<uint16_t>(get(2)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  int16_t i16() { return static_cast<int16_t>(get(2)); }
  int32_t i32() { return static_cast<int32_t>(get(4)); }
  int64_t i64() { return static_cast<int64_t>(get(8)); }
  // The next `n` bytes (a view into the input); empty when short.
  std::string_view raw(size_t n) {
    if (rest_.size() < n) return fail(), std::string_view{};
    auto v = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return v;
  }
  bool ok() const { return ok_; }
  // True when everything was read without error and nothing is left over.
  bool done() const { return ok_ && rest_.empty(); }
  size_t remaining() const { return rest_.size(); }
  // Marks the input bad (a value out of range, say): later reads give zeros.
  void fail() {
    ok_ = false;
    rest_ = {};
  }

 private:
  uint64_t get(size_t n) {
    if (rest_.size() < n) return fail(), 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(rest_[i]);
    rest_.remove_prefix(n);
    return v;
  }
  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace dmq
