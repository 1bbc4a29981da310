#include <doctest/doctest.h>

#include <limits>

#include "quota/quota.h"

using namespace dmq::quota;

namespace {

Entity user(std::optional<std::string> u) {
  return {{"user", std::move(u)}};
}
Entity client(std::optional<std::string> c) {
  return {{"client-id", std::move(c)}};
}
Entity both(std::optional<std::string> u, std::optional<std::string> c) {
  return {{"user", std::move(u)}, {"client-id", std::move(c)}};
}

// Every level of KIP-55 set with a distinct produce rate: level i has rate i.
QuotaTable all_levels() {
  QuotaTable t;
  t[both("alice", "app")]["producer_byte_rate"] = 1;
  t[both("alice", std::nullopt)]["producer_byte_rate"] = 2;
  t[user("alice")]["producer_byte_rate"] = 3;
  t[both(std::nullopt, "app")]["producer_byte_rate"] = 4;
  t[both(std::nullopt, std::nullopt)]["producer_byte_rate"] = 5;
  t[user(std::nullopt)]["producer_byte_rate"] = 6;
  t[client("app")]["producer_byte_rate"] = 7;
  t[client(std::nullopt)]["producer_byte_rate"] = 8;
  return t;
}

}  // namespace

TEST_CASE("resolve follows KIP-55's eight levels in order, then the broker default") {
  QuotaTable t = all_levels();
  const Entity order[] = {both("alice", "app"),
                          both("alice", std::nullopt),
                          user("alice"),
                          both(std::nullopt, "app"),
                          both(std::nullopt, std::nullopt),
                          user(std::nullopt),
                          client("app"),
                          client(std::nullopt)};
  for (int level = 1; level <= 8; ++level) {
    CAPTURE(level);
    Resolved r = resolve(t, Kind::kProduce, "alice", "app", 999);
    REQUIRE(r.limit.has_value());
    CHECK(*r.limit == level);
    t.erase(order[level - 1]);
  }
  CHECK(resolve(t, Kind::kProduce, "alice", "app", 999).limit == 999);
  CHECK_FALSE(resolve(t, Kind::kProduce, "alice", "app", std::nullopt).limit.has_value());
}

TEST_CASE("resolve tags: a named user quota is shared by its clients, defaults are per entity") {
  QuotaTable t;
  t[user("alice")]["producer_byte_rate"] = 10;
  CHECK(resolve(t, Kind::kProduce, "alice", "a", {}) == Resolved{10, "alice", ""});
  t[user(std::nullopt)]["producer_byte_rate"] = 20;
  CHECK(resolve(t, Kind::kProduce, "bob", "b", {}) == Resolved{20, "bob", ""});
  t[client(std::nullopt)]["consumer_byte_rate"] = 30;
  CHECK(resolve(t, Kind::kFetch, "bob", "b", {}) == Resolved{30, "", "b"});
  CHECK(resolve({}, Kind::kFetch, "bob", "b", 40.0) == Resolved{40, "", "b"});
}

TEST_CASE(
    "resolve looks up the key of the kind asked: other keys of a matching entity do not count") {
  QuotaTable t;
  t[both("alice", "app")]["consumer_byte_rate"] = 1;
  t[client("app")]["producer_byte_rate"] = 7;
  CHECK(*resolve(t, Kind::kProduce, "alice", "app", {}).limit == 7);
  CHECK(*resolve(t, Kind::kFetch, "alice", "app", {}).limit == 1);
  CHECK_FALSE(resolve(t, Kind::kRequest, "alice", "app", {}).limit);
}

TEST_CASE("validation refuses what Kafka refuses") {
  CHECK_FALSE(validate_entity(user("alice")));
  CHECK_FALSE(validate_entity(both(std::nullopt, "x")));
  CHECK(validate_entity({}));
  CHECK(validate_entity({{"ip", "1.2.3.4"}}));
  CHECK(validate_entity(user("")));
  CHECK_FALSE(validate_quota("producer_byte_rate", 1024));
  CHECK_FALSE(validate_quota("request_percentage", 12.5));
  CHECK(validate_quota("producer_byte_rate", 10.5));
  CHECK(validate_quota("consumer_byte_rate", -1));
  CHECK(validate_quota("consumer_byte_rate", 0));
  CHECK(validate_quota("request_percentage", std::numeric_limits<double>::infinity()));
  CHECK(validate_quota("connection_creation_rate", 1));
  CHECK(entity_to_string(both("alice", std::nullopt)) == "client-id=<default>,user=alice");
  CHECK(kind_of_key("request_percentage") == Kind::kRequest);
  CHECK(key_name(Kind::kFetch) == "consumer_byte_rate");
}
