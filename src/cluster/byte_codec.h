#pragma once
// Big-endian primitive encoding shared by records, table values and snapshots
// (the formats themselves are described in record_format.h).
//
// ByteReader treats its input as untrusted: every read is bounds-checked and a
// failure is sticky (later reads return zeros), so a decoder reads all fields
// and checks ok() once. Counts are checked against the bytes left, so a
// malformed length never triggers a huge allocation or loop.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/types.h"

namespace dmq::cluster {

class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void i32(int32_t v) { put(static_cast<uint32_t>(v), 4); }
  void i64(int64_t v) { put(static_cast<uint64_t>(v), 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  // u32 length then bytes.
  void str(std::string_view s);
  std::string take() { return std::move(out_); }
  const std::string& bytes() const { return out_; }

 private:
  void put(uint64_t v, int width);
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint16_t u16() { return static_cast<uint16_t>(get(2)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  int32_t i32() { return static_cast<int32_t>(static_cast<uint32_t>(get(4))); }
  int64_t i64() { return static_cast<int64_t>(get(8)); }
  bool boolean();  // only 0 or 1 are valid
  std::string str(size_t max_bytes = kMaxString);
  // An element count; fails if it could not fit in the bytes left, given that
  // each element takes at least min_element_bytes.
  uint32_t count(size_t min_element_bytes);

  void fail() { ok_ = false; }
  bool ok() const { return ok_; }
  // True when everything was read without error and nothing is left over.
  bool finished() const { return ok_ && pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

  static constexpr size_t kMaxString = size_t{1} << 20;

 private:
  uint64_t get(int width);
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Composite values shared by records and table values: a u32 count then the
// items. Config keys must be strictly ascending on decode: the encoding is
// canonical, so equal images always have equal bytes.
void put_broker_ids(ByteWriter& w, const std::vector<BrokerId>& ids);
std::vector<BrokerId> get_broker_ids(ByteReader& r);
void put_config_map(ByteWriter& w, const std::map<std::string, std::string>& configs);
std::map<std::string, std::string> get_config_map(ByteReader& r);

}  // namespace dmq::cluster
