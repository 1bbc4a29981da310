#include <doctest/doctest.h>

#include "net/json_body.h"

TEST_CASE("malformed JSON bodies give a JSON 400 naming the problem") {
  rapidjson::Document doc;
  auto error = dmq::net::parse_json_object("{\"name\": ", &doc);
  REQUIRE(error.has_value());
  CHECK(error->status == 400);
  CHECK(error->body.find("\"code\":\"invalid_json\"") != std::string::npos);
  CHECK(error->body.find("at byte") != std::string::npos);

  auto not_object = dmq::net::parse_json_object("[1,2]", &doc);
  REQUIRE(not_object.has_value());
  CHECK(not_object->body.find("must be a JSON object") != std::string::npos);

  CHECK_FALSE(dmq::net::parse_json_object("{\"a\":1}", &doc).has_value());
  CHECK(doc["a"].GetInt() == 1);
}

TEST_CASE("json_error escapes its message") {
  auto r = dmq::net::json_error(404, "unknown_topic", "no topic \"x\"");
  CHECK(r.status == 404);
  CHECK(r.body == "{\"error\":{\"code\":\"unknown_topic\",\"message\":\"no topic \\\"x\\\"\"}}");
}
