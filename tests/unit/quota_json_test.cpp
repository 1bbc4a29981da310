#include <doctest/doctest.h>

#include "quota/quota_json.h"

using namespace dmq::quota;

namespace {

Alteration parsed(std::string_view body) {
  auto r = parse_alteration(body);
  if (auto* why = std::get_if<std::string>(&r)) FAIL(*why);
  return std::get<Alteration>(r);
}

std::string refusal(std::string_view body) {
  auto r = parse_alteration(body);
  REQUIRE(std::holds_alternative<std::string>(r));
  return std::get<std::string>(r);
}

}  // namespace

TEST_CASE("POST /v1/quotas bodies: null is the default, absent is not part of the entity") {
  Alteration a =
      parsed(R"({"entity":{"user":"alice","client-id":null},"ops":[{"key":"producer_byte_rate",)"
             R"("value":1048576},{"key":"consumer_byte_rate","remove":true}]})");
  CHECK(a.entity == Entity{{"client-id", std::nullopt}, {"user", "alice"}});
  REQUIRE(a.ops.size() == 2);
  CHECK(a.ops[0] == QuotaOp{"producer_byte_rate", 1048576.0});
  CHECK(a.ops[1] == QuotaOp{"consumer_byte_rate", std::nullopt});
  CHECK_FALSE(a.validate_only);
  // What a broker sends for AlterClientQuotas reads back the same.
  a.validate_only = true;
  Alteration again = parsed(alteration_to_json(a));
  CHECK(again.entity == a.entity);
  CHECK(again.ops == a.ops);
  CHECK(again.validate_only);
}

TEST_CASE("POST /v1/quotas refusals name the problem") {
  CHECK(refusal("nope").find("JSON object") != std::string::npos);
  CHECK(refusal(R"({"ops":[]})").find("entity") != std::string::npos);
  CHECK(refusal(R"({"entity":{"client-id":"x"},"ops":[]})").find("ops") != std::string::npos);
  CHECK(refusal(R"({"entity":{"ip":"1.2.3.4"},"ops":[{"key":"producer_byte_rate","value":1}]})")
            .find("ip") != std::string::npos);
  CHECK(refusal(R"({"entity":{},"ops":[{"key":"producer_byte_rate","value":1}]})")
            .find("user and/or a client-id") != std::string::npos);
  CHECK(refusal(R"({"entity":{"user":7},"ops":[{"key":"producer_byte_rate","value":1}]})")
            .find("name or null") != std::string::npos);
  CHECK(refusal(
            R"({"entity":{"user":"a","user":"b"},"ops":[{"key":"producer_byte_rate","value":1}]})")
            .find("twice") != std::string::npos);
  CHECK(refusal(R"({"entity":{"user":"a"},"ops":[{"key":"bogus","value":1}]})")
            .find("unknown quota key") != std::string::npos);
  CHECK(refusal(R"({"entity":{"user":"a"},"ops":[{"key":"bogus","remove":true}]})")
            .find("unknown quota key") != std::string::npos);
  CHECK(refusal(R"({"entity":{"user":"a"},"ops":[{"key":"producer_byte_rate","value":-1}]})")
            .find("positive") != std::string::npos);
  CHECK(refusal(R"({"entity":{"user":"a"},"ops":[{"key":"producer_byte_rate","value":"1"}]})")
            .find("number") != std::string::npos);
  CHECK(refusal(R"({"entity":{"user":"a"},"ops":[{"key":"producer_byte_rate","value":1},)"
                R"({"key":"producer_byte_rate","value":2}]})")
            .find("twice") != std::string::npos);
  CHECK(refusal(R"({"entity":{"user":"a"},"ops":[{"key":"producer_byte_rate","value":1,)"
                R"("remove":true}]})")
            .find("together") != std::string::npos);
  CHECK(refusal(R"({"entity":{"user":"a"},"ops":[{"key":"producer_byte_rate","value":1}],)"
                R"("validate_only":"yes"})")
            .find("boolean") != std::string::npos);
}

TEST_CASE("GET /v1/quotas lists entities with their values") {
  QuotaTable t;
  t[{{"user", "alice"}}]["producer_byte_rate"] = 1024;
  t[{{"client-id", std::nullopt}}]["request_percentage"] = 12.5;
  CHECK(quotas_to_json(t, [](const Entity&) { return true; }) ==
        R"({"quotas":[{"entity":{"client-id":null},"values":{"request_percentage":12.5}},)"
        R"({"entity":{"user":"alice"},"values":{"producer_byte_rate":1024.0}}]})");
  CHECK(quotas_to_json(t, [](const Entity& e) { return e.count("user") > 0; }) ==
        R"({"quotas":[{"entity":{"user":"alice"},"values":{"producer_byte_rate":1024.0}}]})");
}
