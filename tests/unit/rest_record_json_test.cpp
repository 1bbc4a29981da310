// Records in REST bodies: the produce parser (every accepted form and every
// refusal) and the output encoding (UTF-8 as text, anything else base64).

#include <doctest/doctest.h>

#include "common/json_escape.h"
#include "rest/record_json.h"

using namespace dmq::rest;

namespace {

std::vector<ProduceRecord> parse_ok(std::string_view body) {
  auto r = parse_produce_records(body);
  auto* err = std::get_if<ProduceParseError>(&r);
  INFO((err ? err->message : std::string()));
  REQUIRE(err == nullptr);
  return std::get<std::vector<ProduceRecord>>(r);
}

std::string parse_error(std::string_view body) {
  auto r = parse_produce_records(body);
  REQUIRE(std::holds_alternative<ProduceParseError>(r));
  return std::get<ProduceParseError>(r).message;
}

}  // namespace

TEST_CASE("produce bodies: strings, JSON values, base64, null, partitions, headers") {
  auto recs = parse_ok(R"({"records":[
      {"key":"k","value":"v"},
      {"value":{"a":[1,2]}},
      {"value":42},
      {"key":"AP8=","key_encoding":"base64","value":null},
      {"partition":3},
      {"value":"x","headers":[{"key":"h","value":"1"},{"key":"b","value":"AAE=","encoding":"base64"},{"key":"n","value":null}]},
      {"value":"y","headers":{"trace":"t1"}}]})");
  REQUIRE(recs.size() == 7);
  CHECK(recs[0].key == "k");
  CHECK(recs[0].value == "v");
  CHECK(recs[1].value == R"({"a":[1,2]})");
  CHECK(!recs[1].key);
  CHECK(recs[2].value == "42");
  CHECK(recs[3].key == std::string("\x00\xff", 2));
  CHECK(!recs[3].value);
  CHECK(recs[4].partition == 3);
  CHECK(!recs[4].value);
  REQUIRE(recs[5].headers.size() == 3);
  CHECK(recs[5].headers[1].second == std::string("\x00\x01", 2));
  CHECK(!recs[5].headers[2].second);
  REQUIRE(recs[6].headers.size() == 1);
  CHECK(recs[6].headers[0] == std::make_pair(std::string("trace"), OptionalBytes("t1")));
}

TEST_CASE("produce bodies: each refusal names the record and field") {
  CHECK(parse_error("{").find("invalid JSON") != std::string::npos);
  CHECK(parse_error("[]").find("\"records\" array") != std::string::npos);
  CHECK(parse_error(R"({"records":{}})").find("\"records\" array") != std::string::npos);
  CHECK(parse_error(R"({"records":[]})").find("empty") != std::string::npos);
  CHECK(parse_error(R"({"records":[1]})") == "record 0 must be an object");
  CHECK(parse_error(R"({"records":[{},{"value":"%","value_encoding":"base64"}]})") ==
        "record 1: \"value\" is not valid base64");
  CHECK(
      parse_error(R"({"records":[{"key":5,"key_encoding":"base64"}]})").find("must be a string") !=
      std::string::npos);
  CHECK(
      parse_error(R"({"records":[{"value":"x","value_encoding":"hex"}]})").find("value_encoding") !=
      std::string::npos);
  CHECK(parse_error(R"({"records":[{"partition":-1}]})").find("partition") != std::string::npos);
  CHECK(parse_error(R"({"records":[{"partition":"1"}]})").find("partition") != std::string::npos);
  CHECK(parse_error(R"({"records":[{"headers":[{"value":"x"}]}]})").find("headers") !=
        std::string::npos);
  CHECK(parse_error(R"({"records":[{"headers":7}]})").find("headers") != std::string::npos);
  // Invalid UTF-8 inside a JSON string is refused, not stored half-decoded.
  CHECK(parse_error("{\"records\":[{\"value\":\"\xff\"}]}").find("invalid JSON") !=
        std::string::npos);
  // Deep nesting is refused before any recursive walk could overflow the stack.
  std::string deep =
      R"({"records":[{"value":)" + std::string(100000, '[') + std::string(100000, ']') + "}]}";
  CHECK(parse_error(deep).find("deeper than") != std::string::npos);
  std::string ok = R"({"records":[{"value":)" + std::string(50, '[') + std::string(50, ']') + "}]}";
  CHECK(parse_ok(ok).size() == 1);
}

TEST_CASE("record bytes out: UTF-8 as text, other bytes base64 and flagged") {
  std::string j;
  append_bytes_field(j, "value", std::string("h\xc3\xa9\"llo"));
  CHECK(j == "\"value\":\"h\xc3\xa9\\\"llo\"");
  j.clear();
  append_bytes_field(j, "key", std::string("\xc0\xaf", 2));  // overlong '/'
  CHECK(j == R"("key":"wK8=","key_encoding":"base64")");
  j.clear();
  append_bytes_field(j, "key", std::nullopt);
  CHECK(j == R"("key":null)");
  j.clear();
  append_headers_field(j,
                       {{"a", std::string("b")}, {"c", std::string("\xff")}, {"d", std::nullopt}});
  CHECK(
      j ==
      R"("headers":[{"key":"a","value":"b"},{"key":"c","value":"/w==","encoding":"base64"},{"key":"d","value":null}])");
}

TEST_CASE("json_depth_within counts brackets outside strings") {
  CHECK(dmq::json_depth_within("[[[]]]", 3));
  CHECK(!dmq::json_depth_within("[[[[]]]]", 3));
  CHECK(dmq::json_depth_within(R"(["[[[[[[", "\"[[[[["])", 1));
  CHECK(dmq::json_depth_within("]]]]][", 1));
}

TEST_CASE("is_valid_utf8 follows RFC 3629") {
  CHECK(dmq::is_valid_utf8(""));
  CHECK(dmq::is_valid_utf8("plain"));
  CHECK(dmq::is_valid_utf8("\xe2\x82\xac"));       // euro sign
  CHECK(dmq::is_valid_utf8("\xf0\x9f\x98\x80"));   // emoji
  CHECK(!dmq::is_valid_utf8("\xc0\xaf"));          // overlong
  CHECK(!dmq::is_valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK(!dmq::is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK(!dmq::is_valid_utf8("\xe2\x82"));          // truncated
  CHECK(!dmq::is_valid_utf8("\x80"));              // lone continuation
}
