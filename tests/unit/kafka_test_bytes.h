#pragma once
// Byte helpers shared by the codec tests: hex for golden bytes, and a
// message body encoded at one version.

#include <ostream>
#include <string>
#include <string_view>

#include "kafka/protocol/request.h"

namespace dmq::kafka::test {

inline std::string unhex(std::string_view hex) {
  std::string out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

inline std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// One "<api key> <version> <q|s> <hex body>" line per seed: the input of
// tests/fuzz/check_schemas.py (kind 'q' request, 's' response).
template <class M>
void write_schema_samples(std::ostream& out, int16_t version, char kind, uint64_t seeds) {
  for (uint64_t seed = 0; seed < seeds; ++seed) {
    M m;
    sample(m, version, seed);
    Writer w;
    encode(w, version, m);
    out << static_cast<int>(M::kApiKey) << ' ' << version << ' ' << kind << ' ' << hex(w.bytes())
        << '\n';
  }
}

template <class M>
std::string body_bytes(const M& m, int16_t version) {
  Writer w;
  encode(w, version, m);
  return w.take_bytes();
}

}  // namespace dmq::kafka::test
