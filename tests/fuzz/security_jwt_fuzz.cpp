// libFuzzer target: compact JWS splitting, JWT validation against an HS256
// key, the claim checks on raw payload JSON, JWKS documents, strict base64url
// (decode then encode must give the input back).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "security/crypto.h"
#include "security/jwt.h"

using namespace dmq::security;

namespace {

const JwtKeySet& keys() {
  static JwtKeySet k({JwtKey::hmac(std::string(32, 's'), "k1").value()});
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  JwtValidatorConfig config;
  config.expected_audiences = {"dmq"};
  switch (bytes[0] % 4) {
    case 0:
      (void)validate_jwt(data, keys(), config, 1'700'000'000'000);
      break;
    case 1:
      (void)check_jwt_claims(data, config, 1'700'000'000'000);
      break;
    case 2:
      (void)parse_jwks(data);
      break;
    case 3: {
      auto decoded = base64url_decode(data);
      if (decoded && base64url_encode(*decoded) != data) __builtin_trap();
      break;
    }
  }
  return 0;
}
