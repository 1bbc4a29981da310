#include <doctest/doctest.h>

#include "quota/quota_tracker.h"
#include "quota/sampled_rate.h"

using namespace dmq::quota;

TEST_CASE("a first burst is divided by at least samples - 1 windows, as Kafka's Rate") {
  SampledRate r({11, 1000});
  r.record(10'000, 0);
  CHECK(r.window_size_ms(0) == 10'000);
  CHECK(r.rate(0) == doctest::Approx(1000));
}

TEST_CASE("a steady rate is measured over the span of the live samples") {
  SampledRate r({11, 1000});
  for (int64_t t = 0; t < 30'000; t += 100) r.record(100, t);  // 1000 units/s
  CHECK(r.rate(30'000) == doctest::Approx(1000).epsilon(0.1));
}

TEST_CASE("samples older than the whole window are forgotten") {
  SampledRate r({11, 1000});
  r.record(1'000'000, 0);
  CHECK(r.rate(5'000) > 0);
  CHECK(r.rate(11'001) == 0);
  CHECK(r.throttle_time_ms(1, 11'001) == 0);
}

TEST_CASE("throttle time brings the rate back to the quota (KIP-219)") {
  SampledRate r({11, 1000});
  // 20,000 units in a 10 s window = 2000/s against a quota of 1000/s: the
  // rate is back at the quota once the window spans 20 s, 10 s from now.
  r.record(20'000, 0);
  CHECK(r.throttle_time_ms(1000, 0) == 10'000);
  CHECK(r.throttle_time_ms(2000, 0) == 0);
  // Capped at the whole window.
  r.record(1e9, 0);
  CHECK(r.throttle_time_ms(1000, 0) == 11'000);
}

TEST_CASE("the tracker measures per resolved entity and counts throttles") {
  QuotaTracker tracker({11, 1000});
  Resolved alice{1000.0, "alice", ""};
  Resolved bob{1000.0, "bob", ""};
  CHECK(tracker.record(Kind::kProduce, alice, 5'000, 0) == 0);
  int64_t t = tracker.record(Kind::kProduce, alice, 15'000, 0);
  CHECK(t == 10'000);
  CHECK(tracker.throttle_time_ms(Kind::kProduce, alice, 0) == 10'000);
  CHECK(tracker.throttle_time_ms(Kind::kFetch, alice, 0) == 0);
  CHECK(tracker.record(Kind::kProduce, bob, 100, 0) == 0);
  tracker.count_throttle(Kind::kProduce, alice, t);
  auto stats = tracker.stats(0);
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].first.user == "alice");
  CHECK(stats[0].second.throttle_time_ms_total == 10'000);
  CHECK(stats[0].second.throttled_requests == 1);
  CHECK(stats[0].second.rate == doctest::Approx(2000));
  CHECK(stats[1].second.throttled_requests == 0);
  // Unlimited: nothing is recorded.
  CHECK(tracker.record(Kind::kProduce, Resolved{}, 1e12, 0) == 0);
  CHECK(tracker.size() == 2);
  tracker.expire(3'600'001, 3'600'000);
  CHECK(tracker.size() == 0);
}

TEST_CASE("request time is percent-seconds of one thread") {
  CHECK(nanos_to_percent(1'000'000'000) == doctest::Approx(100));
  CHECK(nanos_to_percent(5'000'000) == doctest::Approx(0.5));
}
