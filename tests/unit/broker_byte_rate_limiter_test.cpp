#include <doctest/doctest.h>

#include "broker/byte_rate_limiter.h"

using dmq::broker::ByteRateLimiter;

TEST_CASE("a byte-rate limit holds the average rate and bounds the fetch size") {
  ByteRateLimiter limit(1000);  // 1000 bytes/s
  CHECK(limit.fetch_max_bytes(1 << 20) == 1000);
  int64_t now = 0, sent = 0;
  // Fetch whenever allowed for 10 s, 1000 bytes each time.
  for (; now < 10000; now += 10) {
    if (!limit.may_fetch(now)) continue;
    limit.charge(1000, now);
    sent += 1000;
  }
  // One second of burst plus ten seconds at the rate, at most.
  CHECK(sent <= 11000);
  CHECK(sent >= 9000);
}

TEST_CASE("in debt, the limiter says how long to wait") {
  ByteRateLimiter limit(1000);
  CHECK(limit.may_fetch(0));
  limit.charge(3000, 0);  // 2000 bytes of debt after the first second's tokens
  CHECK_FALSE(limit.may_fetch(0));
  CHECK(limit.wait_ms(0) == 2001);
  CHECK_FALSE(limit.may_fetch(1999));
  CHECK(limit.may_fetch(2100));
}

TEST_CASE("rate 0 is unlimited") {
  ByteRateLimiter limit(0);
  limit.charge(1 << 30, 0);
  CHECK(limit.may_fetch(0));
  CHECK(limit.wait_ms(0) == 0);
  CHECK(limit.fetch_max_bytes(1 << 20) == (1 << 20));
}
