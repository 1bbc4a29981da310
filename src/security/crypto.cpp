#include "security/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>

#include "common/assert.h"

namespace dmq::security {
namespace {

const EVP_MD* evp_md(HashAlgorithm alg) {
  return alg == HashAlgorithm::kSha256 ? EVP_sha256() : EVP_sha512();
}

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_reverse() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kUrlAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr auto kUrlReverse = make_reverse();

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

size_t digest_size(HashAlgorithm alg) {
  return alg == HashAlgorithm::kSha256 ? 32 : 64;
}

std::string hash_digest(HashAlgorithm alg, std::string_view data) {
  std::string out(digest_size(alg), '\0');
  unsigned int len = 0;
  int rc = EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                      evp_md(alg), nullptr);
  DMQ_ASSERT(rc == 1);
  DMQ_ASSERT(len == out.size());
  return out;
}

std::string hmac(HashAlgorithm alg, std::string_view key, std::string_view data) {
  std::string out(digest_size(alg), '\0');
  unsigned int len = 0;
  // HMAC() with a null key pointer misbehaves on some OpenSSL versions; an
  // empty key is legal, so point at a dummy byte.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  unsigned char* rc = HMAC(evp_md(alg), key_ptr, static_cast<int>(key.size()),
                           reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                           reinterpret_cast<unsigned char*>(out.data()), &len);
  DMQ_ASSERT(rc != nullptr);
  DMQ_ASSERT(len == out.size());
  return out;
}

std::string pbkdf2_hmac(HashAlgorithm alg, std::string_view password, std::string_view salt,
                        int iterations) {
  DMQ_ASSERT(iterations >= 1);
  std::string out(digest_size(alg), '\0');
  int rc =
      PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, evp_md(alg),
                        static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
  DMQ_ASSERT(rc == 1);
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : bytes) {
    acc = (acc << 8) | static_cast<uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kUrlAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kUrlAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int8_t d = kUrlReverse[static_cast<unsigned char>(c)];
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits (2 or 4) must be zero, or two texts would decode alike.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace dmq::security
