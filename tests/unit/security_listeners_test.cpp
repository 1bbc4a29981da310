#include <doctest/doctest.h>

#include "security/listeners.h"

using namespace dmq::security;

namespace {

ProtocolMap default_map() {
  return parse_protocol_map("").value();
}

}  // namespace

TEST_CASE("listeners parse with Kafka's default protocol map") {
  auto ls = parse_listeners("PLAINTEXT://127.0.0.1:9092, sasl_ssl://0.0.0.0:9093,SSL://[::1]:9094",
                            default_map());
  REQUIRE(ls.ok());
  REQUIRE(ls.value().size() == 3);
  CHECK(ls.value()[0] == Listener{"PLAINTEXT", SecurityProtocol::kPlaintext, "127.0.0.1", 9092});
  CHECK(ls.value()[1] == Listener{"SASL_SSL", SecurityProtocol::kSaslSsl, "0.0.0.0", 9093});
  CHECK(ls.value()[2] == Listener{"SSL", SecurityProtocol::kSsl, "::1", 9094});
  CHECK(parse_listeners("PLAINTEXT://:0", default_map()).value()[0].host.empty());
  CHECK(uses_tls(SecurityProtocol::kSaslSsl));
  CHECK_FALSE(uses_sasl(SecurityProtocol::kSsl));
}

TEST_CASE("custom listener names map through listener.security.protocol.map") {
  auto map = parse_protocol_map("INTERNAL:SSL, external:SASL_SSL");
  REQUIRE(map.ok());
  auto ls = parse_listeners("INTERNAL://10.0.0.1:9091,EXTERNAL://:9093", map.value());
  REQUIRE(ls.ok());
  CHECK(ls.value()[1].name == "EXTERNAL");
  CHECK(ls.value()[1].protocol == SecurityProtocol::kSaslSsl);
  // With a custom map, PLAINTEXT is just an unmapped name.
  CHECK_FALSE(parse_listeners("PLAINTEXT://:9092", map.value()).ok());
  CHECK_FALSE(parse_protocol_map("A:SSL,A:PLAINTEXT").ok());
  CHECK_FALSE(parse_protocol_map("A:TLS").ok());
  CHECK_FALSE(parse_protocol_map("A").ok());
  CHECK_FALSE(parse_protocol_map("A:SSL,,B:SSL").ok());
}

TEST_CASE("listener refusals: unknown protocol, bad port, duplicates, bad hosts") {
  auto map = default_map();
  auto message = [&](std::string text) { return parse_listeners(text, map).error().message; };
  CHECK(message("FOO://:9092").find("not a security protocol") != std::string::npos);
  CHECK(message("PLAINTEXT://:65536").find("port") != std::string::npos);
  CHECK(message("PLAINTEXT://:-1").find("port") != std::string::npos);
  CHECK(message("PLAINTEXT://:").find("port") != std::string::npos);
  CHECK(message("PLAINTEXT://host").find("port") != std::string::npos);
  CHECK(message("PLAINTEXT://a:1,PLAINTEXT://b:2").find("twice") != std::string::npos);
  CHECK(message("PLAINTEXT://:9092,SSL://10.0.0.1:9092").find("share port") != std::string::npos);
  CHECK(parse_listeners("PLAINTEXT://10.0.0.1:9092,SSL://10.0.0.2:9092", map).ok());
  for (std::string bad :
       {"", "PLAINTEXT", "PLAINTEXT:/:1", "://:1", "PLAIN TEXT://:1", "PLAINTEXT://a b:1",
        "PLAINTEXT://::1:1", "PLAINTEXT://[]:1", "PLAINTEXT://:1,", "PLAINTEXT://h:1x"}) {
    CAPTURE(bad);
    CHECK(parse_listeners(bad, map).error().code == ErrorCode::kInvalidConfig);
  }
}

TEST_CASE("advertised.listeners must name listeners and routable addresses") {
  auto map = default_map();
  auto ls = parse_listeners("PLAINTEXT://0.0.0.0:9092,SSL://0.0.0.0:9093", map).value();
  auto adv = parse_advertised_listeners("PLAINTEXT://broker1.example:9092", ls, map);
  REQUIRE(adv.ok());
  REQUIRE(adv.value().has_value());
  CHECK(adv.value()->at(0).host == "broker1.example");
  CHECK_FALSE(parse_advertised_listeners("", ls, map).value().has_value());
  CHECK_FALSE(parse_advertised_listeners("SASL_SSL://h:9094", ls, map).ok());
  CHECK_FALSE(parse_advertised_listeners("PLAINTEXT://0.0.0.0:9092", ls, map).ok());
  CHECK_FALSE(parse_advertised_listeners("PLAINTEXT://:9092", ls, map).ok());
  CHECK_FALSE(parse_advertised_listeners("PLAINTEXT://h:0", ls, map).ok());
}
