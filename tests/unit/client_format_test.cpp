// The client's pure text rules: --format templates, JSON records, input
// lines split at --key-separator, and --header k=v.

#include <doctest/doctest.h>

#include "client/format.h"
#include "client/output.h"

using namespace dmq::client;

namespace {

Message sample() {
  Message m;
  m.topic = "orders";
  m.partition = 2;
  m.offset = 41;
  m.timestamp_ms = 1700000000123;
  m.key = "k1";
  m.value = "hello";
  m.headers = {{"a", "1"}, {"b", std::nullopt}};
  return m;
}

std::string render(const char* spec, const Message& m) {
  std::string error;
  auto f = OutputFormat::parse(spec, &error);
  REQUIRE_MESSAGE(f.has_value(), error);
  std::string out;
  f->render(m, out);
  return out;
}

}  // namespace

TEST_CASE("format placeholders render every field of a record") {
  auto m = sample();
  CHECK(render("%v\\n", m) == "hello\n");
  CHECK(render("%t/%p@%o %k=%s", m) == "orders/2@41 k1=hello");
  CHECK(render("%T|%h|%K|%S|100%%", m) == "1700000000123|a=1,b=|2|5|100%");
  CHECK(render("x\\ty\\\\", m) == "x\ty\\");
}

TEST_CASE("format renders null keys and values as empty, with length -1") {
  auto m = sample();
  m.key.reset();
  m.value.reset();
  CHECK(render("[%k][%v] %K %S", m) == "[][] -1 -1");
}

TEST_CASE("format rejects unknown placeholders and escapes with a clear message") {
  std::string error;
  CHECK_FALSE(OutputFormat::parse("%q", &error).has_value());
  CHECK(error == "--format has an unknown placeholder '%q'");
  CHECK_FALSE(OutputFormat::parse("abc\\x", &error).has_value());
  CHECK(error == "--format has an unknown escape '\\x'");
  CHECK_FALSE(OutputFormat::parse("abc%", &error).has_value());
  CHECK(error == "--format ends with a lone '%'");
}

TEST_CASE("json record escapes text and keeps nulls") {
  auto m = sample();
  m.value = "a \"quoted\"\nline";
  m.key.reset();
  std::string out;
  render_json(m, out);
  CHECK(out ==
        "{\"topic\":\"orders\",\"partition\":2,\"offset\":41,\"timestamp\":1700000000123,"
        "\"key\":null,\"value\":\"a \\\"quoted\\\"\\nline\",\"headers\":[{\"key\":\"a\","
        "\"value\":\"1\"},{\"key\":\"b\",\"value\":null}]}");
}

TEST_CASE("JSON records stay valid JSON for bytes that are not UTF-8") {
  std::vector<dmq::kafka::RecordHeader> headers{{"bin", std::string_view("\xff\x00", 2)}};
  Message m{"t",    0, 5, 1, std::string_view("\xc3\xa9", 2), std::string_view("\x80\x81", 2),
            headers};
  std::string out;
  render_json(m, out);
  CHECK(out ==
        "{\"topic\":\"t\",\"partition\":0,\"offset\":5,\"timestamp\":1,\"key\":\"\xc3\xa9\","
        "\"value\":\"gIE=\",\"value_encoding\":\"base64\",\"headers\":[{\"key\":\"bin\","
        "\"value\":\"/wA=\",\"encoding\":\"base64\"}]}");
}

TEST_CASE("input lines split at the first key separator") {
  auto r = split_line("user-1:{\"a\":1}:x", std::string(":"));
  REQUIRE(r.key.has_value());
  CHECK(*r.key == "user-1");
  CHECK(r.value == "{\"a\":1}:x");
  auto multi = split_line("k||v", std::string("||"));
  CHECK(*multi.key == "k");
  CHECK(multi.value == "v");
  auto none = split_line("no separator here", std::string("\t"));
  CHECK_FALSE(none.key.has_value());
  CHECK(none.value == "no separator here");
  auto unkeyed = split_line("a:b", std::nullopt);
  CHECK_FALSE(unkeyed.key.has_value());
  CHECK(unkeyed.value == "a:b");
  auto empty_key = split_line(":v", std::string(":"));
  CHECK(*empty_key.key == "");
}

TEST_CASE("headers parse as k=v with the value free to hold '='") {
  auto h = parse_header("trace=a=b");
  REQUIRE(h.has_value());
  CHECK(h->first == "trace");
  CHECK(h->second == "a=b");
  CHECK(parse_header("empty=")->second == "");
  CHECK_FALSE(parse_header("novalue").has_value());
  CHECK_FALSE(parse_header("=v").has_value());
}

TEST_CASE("tables pad every column to its widest cell") {
  Table table({"NAME", "PARTITIONS"});
  table.add({"orders", "3"});
  table.add({"a", "12"});
  CHECK(table.render() ==
        "NAME    PARTITIONS\n"
        "orders  3\n"
        "a       12\n");
}
