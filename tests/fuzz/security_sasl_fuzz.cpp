// libFuzzer target: the SASL message parsers (PLAIN, SCRAM client-first and
// client-final, OAUTHBEARER) and a whole SCRAM server exchange. The first
// byte picks the parser; the rest is the message. Checks round trips where a
// parser has an inverse.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "security/oauthbearer.h"
#include "security/sasl_plain.h"
#include "security/scram.h"

using namespace dmq::security;

namespace {

class ZeroRandom : public RandomSource {
 public:
  void fill(char* out, size_t size) override {
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(i);
  }
};

const ScramCredentialStore& store() {
  static ScramCredentialStore s = [] {
    ScramCredentialStore st(std::string(32, 'k'));
    st.upsert("alice", ScramMechanism::kSha256,
              scram_credential_from_password(ScramMechanism::kSha256, "pw", "salt", 4096).value());
    return st;
  }();
  return s;
}

void scram_exchange(std::string_view data) {
  // Two messages split at the first 0xff byte.
  size_t cut = data.find('\xff');
  ZeroRandom random;
  ScramServer server(ScramMechanism::kSha256, store(), random);
  auto first = server.step(data.substr(0, cut));
  if (first && cut != std::string_view::npos) {
    auto fin = server.step(data.substr(cut + 1));
    if (fin && !server.authenticated()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  switch (bytes[0] % 5) {
    case 0:
      (void)parse_sasl_plain(data);
      break;
    case 1: {
      auto first = parse_scram_client_first(data);
      if (first &&
          decode_saslname(encode_saslname(first.value().username)) != first.value().username) {
        __builtin_trap();
      }
      break;
    }
    case 2:
      (void)parse_scram_client_final(data);
      break;
    case 3:
      (void)parse_oauthbearer_client_response(data);
      break;
    case 4:
      scram_exchange(data);
      break;
  }
  return 0;
}
