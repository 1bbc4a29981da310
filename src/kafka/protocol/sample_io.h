#pragma once
// SampleIO: a third serde adapter that fills a message with deterministic,
// non-default values for every field present in a version (arrays of 0-2
// elements, nulls where nullable, tagged fields too). It drives the
// round-trip tests, the mutation test and the fuzzer's seed corpus, so all of
// them cover exactly the fields the serde functions declare.
//
// Strings and bytes view static storage, so samples stay valid indefinitely.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "kafka/protocol/io.h"

namespace dmq::kafka {

class SampleIO {
 public:
  static constexpr bool kDecoding = true;
  SampleIO(int16_t version, bool flexible, uint64_t seed)
      : version_(version), flexible_(flexible), state_(seed * 0x9E3779B97F4A7C15ull + 1) {}

  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  bool ok() const { return true; }

  void i8(int8_t& v) { v = static_cast<int8_t>(next()); }
  void i16(int16_t& v) { v = static_cast<int16_t>(next()); }
  void i32(int32_t& v) { v = static_cast<int32_t>(next()); }
  void i64(int64_t& v) { v = static_cast<int64_t>(next()); }
  void u16(uint16_t& v) { v = static_cast<uint16_t>(next()); }
  void u32(uint32_t& v) { v = static_cast<uint32_t>(next()); }
  void f64(double& v) { v = static_cast<double>(next() % 1000) / 8.0; }
  void boolean(bool& v) { v = next() & 1; }
  void error(ErrorCode& e) { e = static_cast<ErrorCode>(static_cast<int16_t>(next() % 90)); }
  void uuid(Uuid& u) {
    for (auto& b : u.bytes) b = static_cast<uint8_t>(next());
  }

  template <class S>
  void string(S& s) {
    s = S(text());
  }
  template <class S>
  void nstring(std::optional<S>& s) {
    if (next() % 4 == 0) {
      s.reset();
    } else {
      s = S(text());
    }
  }
  template <class S>
  void nstring_if(bool nullable, std::optional<S>& s) {
    if (nullable) {
      nstring(s);
    } else {
      s = S(text());
    }
  }
  template <class S>
  void bytes(S& s) {
    string(s);
  }
  template <class S>
  void nbytes(std::optional<S>& s) {
    nstring(s);
  }
  void records(Records& r) { r = next() % 5 == 0 ? Records::null() : Records::view(text()); }

  template <class T, class F>
  void array(std::vector<T>& v, F&& element) {
    // Depth-limited so nested arrays stay small.
    size_t n = depth_ > 3 ? 0 : next() % 3;
    v.clear();
    ++depth_;
    for (size_t i = 0; i < n; ++i) element(v.emplace_back());
    --depth_;
  }
  template <class T, class F>
  void narray(std::optional<std::vector<T>>& v, F&& element) {
    if (next() % 4 == 0) {
      v.reset();
    } else {
      array(v.emplace(), element);
    }
  }
  template <class T, class F>
  void narray_if(bool nullable, std::optional<std::vector<T>>& v, F&& element) {
    if (nullable) {
      narray(v, element);
    } else {
      array(v.emplace(), element);
    }
  }

  void tags() {}
  template <class F>
  void tags(F&& known) {
    if (!flexible_) return;
    TagFiller t{*this};
    known(t);
  }

 private:
  struct TagFiller {
    SampleIO& io;
    template <class F>
    void field(uint32_t, bool, F&& fn) {
      fn(io);
    }
  };

  uint64_t next() {  // splitmix64
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::string_view text() {
    static constexpr std::string_view kPool =
        "topic-a.consumer-group_1 member-7f3a rack1 cluster-xyz client.id=dmq 0123456789";
    size_t start = next() % 20;
    size_t len = next() % 24;
    return kPool.substr(start, len);
  }

  int16_t version_;
  bool flexible_;
  uint64_t state_;
  int depth_ = 0;
};

}  // namespace dmq::kafka
