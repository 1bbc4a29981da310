#pragma once
// Helpers for the security unit tests: hex, a replayable random source, and
// the client half of a SCRAM exchange.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "security/random.h"
#include "security/scram.h"

namespace dmq::security::test {

inline std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

inline std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// A deterministic byte stream (SplitMix64), so a failing test replays.
class SeededRandom : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  void fill(char* out, size_t size) override {
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(next() & 0xff);
  }

 private:
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

// The client side of SCRAM, as a Kafka client computes it.
struct ScramTestClient {
  ScramTestClient(ScramMechanism m, std::string u, std::string p)
      : mechanism(m), user(std::move(u)), password(std::move(p)) {}
  ScramMechanism mechanism;
  std::string user;
  std::string password;
  std::string client_nonce = "fyko+d2lbbFgONRv9qkxdawL";
  std::string bare;
  std::string expected_server_signature;

  std::string first() {
    bare = "n=" + encode_saslname(user) + ",r=" + client_nonce;
    return "n,," + bare;
  }
  // Builds client-final from server-first; `nonce_override` forges the nonce.
  std::string final_message(std::string_view server_first, std::string nonce_override = "") {
    std::string_view rest = server_first.substr(2);
    std::string nonce(rest.substr(0, rest.find(',')));
    rest = rest.substr(rest.find(",s=") + 3);
    std::string salt = *base64_decode(rest.substr(0, rest.find(',')));
    int iterations = std::stoi(std::string(rest.substr(rest.find(",i=") + 3)));
    HashAlgorithm alg = scram_hash(mechanism);
    std::string salted = pbkdf2_hmac(alg, password, salt, iterations);
    std::string client_key = hmac(alg, salted, "Client Key");
    std::string without_proof = "c=biws,r=" + (nonce_override.empty() ? nonce : nonce_override);
    std::string auth = bare + "," + std::string(server_first) + "," + without_proof;
    std::string signature = hmac(alg, hash_digest(alg, client_key), auth);
    std::string proof(client_key.size(), '\0');
    for (size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ signature[i];
    expected_server_signature =
        "v=" + base64_encode(hmac(alg, hmac(alg, salted, "Server Key"), auth));
    return without_proof + ",p=" + base64_encode(proof);
  }
};

}  // namespace dmq::security::test
