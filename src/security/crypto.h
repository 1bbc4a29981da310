#pragma once
// Small cryptographic building blocks over OpenSSL's libcrypto, shared by
// SCRAM, PLAIN, JWT and cluster-request authentication. Pure functions: any
// thread may call them. Strings hold raw bytes unless named *_b64.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dmq::security {

// Compares two secrets (MACs, stored keys, shared secrets) without a timing
// side channel on their contents (CRYPTO_memcmp). Lengths are not secret: a
// length mismatch returns false at once.
bool constant_time_equal(std::string_view a, std::string_view b);

enum class HashAlgorithm { kSha256, kSha512 };
// 32 for SHA-256, 64 for SHA-512.
size_t digest_size(HashAlgorithm alg);

std::string hash_digest(HashAlgorithm alg, std::string_view data);
std::string hmac(HashAlgorithm alg, std::string_view key, std::string_view data);
// PBKDF2-HMAC (RFC 8018) producing digest_size(alg) bytes ("Hi()" of RFC 5802).
// Requires iterations >= 1.
std::string pbkdf2_hmac(HashAlgorithm alg, std::string_view password, std::string_view salt,
                        int iterations);

// base64url without padding (RFC 7515 §2, RFC 4648 §5).
std::string base64url_encode(std::string_view bytes);
// Strict: nullopt for '=' padding, characters outside the URL-safe alphabet,
// a length of 1 mod 4, or non-zero unused bits in the last character (so
// every byte string has exactly one accepted encoding).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace dmq::security
