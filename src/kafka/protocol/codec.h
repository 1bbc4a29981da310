#pragma once
// The per-message codec entry points. Every message struct T (requests and
// responses, see msg_*.h) has
//
//   CodecError decode(std::string_view body, int16_t version, T& out);
//   void encode(Writer& w, int16_t version, const T& m);
//   void sample(T& out, int16_t version, uint64_t seed);
//
// `body` is the message body only (after the header). decode() fails with
// kUnsupportedVersion outside the API's range (api.h) and otherwise returns
// the first malformation found; string_view fields of `out` view `body`.
// encode() requires a supported version (programmer error otherwise) and
// writes fields absent from `version` not at all. sample() fills `out` with
// deterministic non-default values for every field of `version` (see
// sample_io.h); it exists for tests and fuzzing corpora.

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "kafka/protocol/api.h"
#include "kafka/protocol/io.h"
#include "kafka/protocol/sample_io.h"
#include "kafka/protocol/serde.h"

namespace dmq::kafka {

#define DMQ_KAFKA_DECLARE_CODEC(T)                                   \
  CodecError decode(std::string_view body, int16_t version, T& out); \
  void encode(Writer& w, int16_t version, const T& m);               \
  void sample(T& out, int16_t version, uint64_t seed)

// Constrains a serde overload to message type T (M is T or const T).
template <class M, class T>
concept MessageOf = std::is_same_v<std::remove_const_t<M>, T>;

namespace detail {

template <class T, class Fn>
CodecError decode_message(std::string_view body, int16_t version, T& out, Fn&& fn) {
  const ApiInfo* api = find_api(T::kApiKey);
  DMQ_ASSERT(api != nullptr);
  if (!version_supported(*api, version)) return CodecError::kUnsupportedVersion;
  Reader r(body);
  DecodeIO io(r, version, is_flexible(*api, version));
  fn(io, out);
  return r.error();
}

template <class T, class Fn>
void encode_message(Writer& w, int16_t version, const T& m, Fn&& fn) {
  const ApiInfo* api = find_api(T::kApiKey);
  DMQ_ASSERT(api != nullptr);
  DMQ_ASSERT(version_supported(*api, version));
  EncodeIO io(w, version, is_flexible(*api, version));
  fn(io, m);
}

template <class T, class Fn>
void sample_message(T& out, int16_t version, uint64_t seed, Fn&& fn) {
  const ApiInfo* api = find_api(T::kApiKey);
  DMQ_ASSERT(api != nullptr);
  out = T{};
  SampleIO io(version, is_flexible(*api, version), seed);
  fn(io, out);
}

}  // namespace detail

// Defines decode()/encode()/sample() for T from a `serde(IO&, M&)` overload in scope.
#define DMQ_KAFKA_DEFINE_CODEC(T)                                                               \
  CodecError decode(std::string_view body, int16_t version, T& out) {                           \
    return detail::decode_message(body, version, out, [](auto& io, auto& m) { serde(io, m); }); \
  }                                                                                             \
  void encode(Writer& w, int16_t version, const T& m) {                                         \
    detail::encode_message(w, version, m, [](auto& io, auto& msg) { serde(io, msg); });         \
  }                                                                                             \
  void sample(T& out, int16_t version, uint64_t seed) {                                         \
    detail::sample_message(out, version, seed, [](auto& io, auto& m) { serde(io, m); });        \
  }

}  // namespace dmq::kafka
