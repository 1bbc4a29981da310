#pragma once
// DecodeIO and EncodeIO: the two halves of a symmetric serde. Each message has
// one function template
//
//   template <class IO, class M> void serde(IO& io, M& m) {
//     if (io.version() >= 3) io.nstring(m.transactional_id);
//     io.i16(m.acks);
//     io.array(m.topics, [&](auto& t) { io.string(t.name); ...; io.tags(); });
//     io.tags();
//   }
//
// that states the field order and the version range of every field once; it is
// instantiated with DecodeIO (M = T) to read and with EncodeIO (M = const T)
// to write. Strings, bytes, arrays and records switch to the compact encodings
// when io.flexible(); io.tags() reads/writes a tagged-field section only in
// flexible versions (it is a no-op otherwise). Unknown tags are skipped.
//
// Known tagged fields are declared in ascending tag order:
//   io.tags([&](auto& t) {
//     t.field(0, m.cluster_id.has_value(), [&](auto& sub) { sub.nstring(m.cluster_id); });
//   });
// The boolean says whether the encoder writes the tag (Kafka writes a tagged
// field only when it differs from its default); the decoder ignores it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/protocol/io.h"

namespace dmq::kafka {

class DecodeIO;

// Handed to a tags() callback while decoding: matches one tag read from the input.
class TagDecoder {
 public:
  TagDecoder(uint32_t tag, DecodeIO& sub) : tag_(tag), sub_(sub) {}
  template <class F>
  void field(uint32_t tag, bool /*write_it*/, F&& fn) {
    if (tag == tag_) fn(sub_);
  }

 private:
  uint32_t tag_;
  DecodeIO& sub_;
};

class DecodeIO {
 public:
  static constexpr bool kDecoding = true;
  DecodeIO(Reader& reader, int16_t version, bool flexible)
      : r_(reader), version_(version), flexible_(flexible) {}

  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  bool ok() const { return r_.ok(); }
  Reader& reader() { return r_; }

  void i8(int8_t& v) { v = r_.i8(); }
  void i16(int16_t& v) { v = r_.i16(); }
  void i32(int32_t& v) { v = r_.i32(); }
  void i64(int64_t& v) { v = r_.i64(); }
  void u16(uint16_t& v) { v = r_.u16(); }
  void u32(uint32_t& v) { v = r_.u32(); }
  void f64(double& v) { v = r_.f64(); }
  void boolean(bool& v) { v = r_.i8() != 0; }
  void error(ErrorCode& e) { e = static_cast<ErrorCode>(r_.i16()); }
  void uuid(Uuid& u) {
    auto b = r_.take(16);
    if (b.size() == 16) std::memcpy(u.bytes.data(), b.data(), 16);
  }

  template <class S>
  void string(S& s) {
    auto v = str_or_null(/*bytes=*/false);
    if (!v) r_.fail(CodecError::kUnexpectedNull);
    s = S(v.value_or(std::string_view{}));
  }
  template <class S>
  void nstring(std::optional<S>& s) {
    auto v = str_or_null(false);
    s = v ? std::optional<S>(S(*v)) : std::nullopt;
  }
  template <class S>
  void bytes(S& s) {
    auto v = str_or_null(true);
    if (!v) r_.fail(CodecError::kUnexpectedNull);
    s = S(v.value_or(std::string_view{}));
  }
  template <class S>
  void nbytes(std::optional<S>& s) {
    auto v = str_or_null(true);
    s = v ? std::optional<S>(S(*v)) : std::nullopt;
  }
  // A string field that is nullable only in some versions.
  template <class S>
  void nstring_if(bool nullable, std::optional<S>& s) {
    if (nullable) {
      nstring(s);
    } else {
      string(s.emplace());
    }
  }
  void records(Records& rec) {
    auto v = str_or_null(true);
    rec = v ? Records::view(*v) : Records::null();
  }

  template <class T, class F>
  void array(std::vector<T>& v, F&& element) {
    int64_t n = count();
    if (n < 0) {
      r_.fail(CodecError::kUnexpectedNull);
      n = 0;
    }
    elements(v, n, element);
  }
  template <class T, class F>
  void narray(std::optional<std::vector<T>>& v, F&& element) {
    int64_t n = count();
    if (n < 0) {
      v.reset();
      return;
    }
    v.emplace();
    elements(*v, n, element);
  }

  // An array that is nullable only in some versions.
  template <class T, class F>
  void narray_if(bool nullable, std::optional<std::vector<T>>& v, F&& element) {
    if (nullable) {
      narray(v, element);
    } else {
      array(v.emplace(), element);
    }
  }

  void tags() {
    tags([](auto&) {});
  }
  template <class F>
  void tags(F&& known) {
    if (!flexible_) return;
    uint32_t n = r_.uvarint();
    if (n > r_.remaining()) r_.fail(CodecError::kTooManyElements);
    for (uint32_t i = 0; i < n && r_.ok(); ++i) {
      uint32_t tag = r_.uvarint();
      uint32_t size = r_.uvarint();
      std::string_view payload = r_.take(size);
      if (!r_.ok()) return;
      Reader sub_reader(payload);
      DecodeIO sub(sub_reader, version_, true);
      TagDecoder t(tag, sub);
      known(t);
      if (!sub_reader.ok()) r_.fail(sub_reader.error());
    }
  }

 private:
  // A length-prefixed string/bytes payload; nullopt for the null marker.
  std::optional<std::string_view> str_or_null(bool bytes) {
    int64_t len;
    if (flexible_) {
      len = static_cast<int64_t>(r_.uvarint()) - 1;
    } else {
      len = bytes ? r_.i32() : r_.i16();
    }
    if (!r_.ok()) return std::string_view{};
    if (len == -1) return std::nullopt;
    if (len < -1) {
      r_.fail(CodecError::kBadLength);
      return std::string_view{};
    }
    return r_.take(static_cast<size_t>(len));
  }
  // An array count; -1 for null. Counts that cannot fit the bytes left fail,
  // so nothing is ever reserved from an unchecked count.
  int64_t count() {
    int64_t n = flexible_ ? static_cast<int64_t>(r_.uvarint()) - 1 : r_.i32();
    if (!r_.ok()) return 0;
    if (n < -1) {
      r_.fail(CodecError::kBadLength);
      return 0;
    }
    if (n > static_cast<int64_t>(r_.remaining())) {
      r_.fail(CodecError::kTooManyElements);
      return 0;
    }
    return n;
  }
  template <class T, class F>
  void elements(std::vector<T>& v, int64_t n, F& element) {
    v.clear();
    v.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n && r_.ok(); ++i) element(v.emplace_back());
  }

  Reader& r_;
  int16_t version_;
  bool flexible_;
};

class EncodeIO;

// Handed to a tags() callback while encoding: collects the tags to write.
class TagEncoder {
 public:
  explicit TagEncoder(int16_t version) : version_(version) {}
  template <class F>
  void field(uint32_t tag, bool write_it, F&& fn);
  std::vector<std::pair<uint32_t, std::string>>& fields() { return fields_; }

 private:
  int16_t version_;
  std::vector<std::pair<uint32_t, std::string>> fields_;
};

class EncodeIO {
 public:
  static constexpr bool kDecoding = false;
  EncodeIO(Writer& writer, int16_t version, bool flexible)
      : w_(writer), version_(version), flexible_(flexible) {}

  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  bool ok() const { return true; }
  Writer& writer() { return w_; }

  void i8(int8_t v) { w_.i8(v); }
  void i16(int16_t v) { w_.i16(v); }
  void i32(int32_t v) { w_.i32(v); }
  void i64(int64_t v) { w_.i64(v); }
  void u16(uint16_t v) { w_.u16(v); }
  void u32(uint32_t v) { w_.u32(v); }
  void f64(double v) { w_.f64(v); }
  void boolean(bool v) { w_.i8(v ? 1 : 0); }
  void error(ErrorCode e) { w_.i16(to_wire(e)); }
  void uuid(const Uuid& u) {
    w_.raw(std::string_view(reinterpret_cast<const char*>(u.bytes.data()), 16));
  }

  void string(std::string_view s) { str(s, false); }
  template <class S>
  void nstring(const std::optional<S>& s) {
    if (s) {
      str(*s, false);
    } else {
      null_length(false);
    }
  }
  // Where the field is not nullable in this version, null is written as "".
  template <class S>
  void nstring_if(bool nullable, const std::optional<S>& s) {
    if (nullable) {
      nstring(s);
    } else {
      string(s ? std::string_view(*s) : std::string_view{});
    }
  }
  void bytes(std::string_view s) { str(s, true); }
  template <class S>
  void nbytes(const std::optional<S>& s) {
    if (s) {
      str(*s, true);
    } else {
      null_length(true);
    }
  }
  void records(const Records& rec) {
    switch (rec.kind) {
      case Records::Kind::kNull:
        null_length(true);
        return;
      case Records::Kind::kBytes:
        str(rec.bytes, true);
        return;
      case Records::Kind::kExternal:
        length(rec.external_length, true);
        w_.splice(rec.external_id, rec.external_length);
        return;
    }
  }

  template <class T, class F>
  void array(const std::vector<T>& v, F&& element) {
    write_count(static_cast<int64_t>(v.size()));
    for (const auto& e : v) element(e);
  }
  template <class T, class F>
  void narray(const std::optional<std::vector<T>>& v, F&& element) {
    if (!v) {
      write_count(-1);
      return;
    }
    array(*v, element);
  }

  // Where the array is not nullable in this version, null is written empty.
  template <class T, class F>
  void narray_if(bool nullable, const std::optional<std::vector<T>>& v, F&& element) {
    if (nullable || v) {
      narray(v, element);
    } else {
      write_count(0);
    }
  }

  void tags() {
    if (flexible_) w_.uvarint(0);
  }
  template <class F>
  void tags(F&& known) {
    if (!flexible_) return;
    TagEncoder t(version_);
    known(t);
    w_.uvarint(static_cast<uint32_t>(t.fields().size()));
    for (auto& [tag, payload] : t.fields()) {
      w_.uvarint(tag);
      w_.uvarint(static_cast<uint32_t>(payload.size()));
      w_.raw(payload);
    }
  }

 private:
  void length(size_t n, bool bytes) {
    if (flexible_) {
      DMQ_ASSERT(n < 0xFFFFFFFFu);
      w_.uvarint(static_cast<uint32_t>(n + 1));
    } else if (bytes) {
      DMQ_ASSERT(n <= 0x7FFFFFFFu);
      w_.i32(static_cast<int32_t>(n));
    } else {
      DMQ_ASSERT(n <= 0x7FFFu);
      w_.i16(static_cast<int16_t>(n));
    }
  }
  void null_length(bool bytes) {
    if (flexible_) {
      w_.uvarint(0);
    } else if (bytes) {
      w_.i32(-1);
    } else {
      w_.i16(-1);
    }
  }
  void str(std::string_view s, bool bytes) {
    length(s.size(), bytes);
    w_.raw(s);
  }
  void write_count(int64_t n) {
    if (flexible_) {
      w_.uvarint(static_cast<uint32_t>(n + 1));
    } else {
      w_.i32(static_cast<int32_t>(n));
    }
  }

  Writer& w_;
  int16_t version_;
  bool flexible_;
};

template <class F>
void TagEncoder::field(uint32_t tag, bool write_it, F&& fn) {
  if (!write_it) return;
  DMQ_ASSERT(fields_.empty() || fields_.back().first < tag);
  Writer w;
  EncodeIO sub(w, version_, true);
  fn(sub);
  fields_.emplace_back(tag, w.take_bytes());
}

// Arrays of plain values, shared by the message files.
template <class IO, class V>
void serde_i32_array(IO& io, V& v) {
  io.array(v, [&](auto& x) { io.i32(x); });
}

template <class IO, class V>
void serde_i64_array(IO& io, V& v) {
  io.array(v, [&](auto& x) { io.i64(x); });
}

template <class IO, class V>
void serde_string_array(IO& io, V& v) {
  io.array(v, [&](auto& s) { io.string(s); });
}

}  // namespace dmq::kafka
