#include <doctest/doctest.h>

#include "security/crypto.h"
#include "security_test_util.h"

using namespace dmq::security;
using dmq::security::test::from_hex;
using dmq::security::test::to_hex;

TEST_CASE("constant_time_equal compares contents and lengths") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("secret", "secret!"));
  CHECK_FALSE(constant_time_equal("", "x"));
}

TEST_CASE("HMAC-SHA-256 and HMAC-SHA-512 match RFC 4231") {
  std::string key1(20, '\x0b');
  CHECK(to_hex(hmac(HashAlgorithm::kSha256, key1, "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(to_hex(hmac(HashAlgorithm::kSha512, key1, "Hi There")) ==
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
  CHECK(to_hex(hmac(HashAlgorithm::kSha256, "Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(to_hex(hmac(HashAlgorithm::kSha512, "Jefe", "what do ya want for nothing?")) ==
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  // Test case 6: a key longer than the block size is hashed first.
  std::string key6(131, '\xaa');
  CHECK(to_hex(hmac(HashAlgorithm::kSha256, key6,
                    "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("PBKDF2-HMAC-SHA-256 matches RFC 7914 §11 (first block)") {
  CHECK(to_hex(pbkdf2_hmac(HashAlgorithm::kSha256, "passwd", "salt", 1)) ==
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
}

TEST_CASE("base64url round-trips every length and refuses non-canonical text") {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    auto decoded = base64url_decode(base64url_encode(bytes));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == bytes);
    bytes += static_cast<char>(n * 37 + 200);
  }
  CHECK(base64url_encode(from_hex("fbff")) == "-_8");
  CHECK_FALSE(base64url_decode("AAA=").has_value());  // padding
  CHECK_FALSE(base64url_decode("AA+A").has_value());  // standard alphabet
  CHECK_FALSE(base64url_decode("A").has_value());     // 1 mod 4
  CHECK_FALSE(base64url_decode("AB").has_value());    // non-zero unused bits
  CHECK(base64url_decode("AA").has_value());
  CHECK_FALSE(base64url_decode("AA A").has_value());
}
