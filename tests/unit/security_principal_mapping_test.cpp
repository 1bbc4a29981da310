#include <doctest/doctest.h>

#include "security/principal_mapping.h"

using namespace dmq::security;

namespace {

std::string map(std::string_view rules, std::string_view subject) {
  auto mapper = SslPrincipalMapper::parse(rules);
  REQUIRE(mapper);
  auto name = mapper.value().name_of(subject);
  return name ? name.value() : "<refused>";
}

}  // namespace

TEST_CASE("principal mapping: no rules and DEFAULT keep the whole subject") {
  CHECK(map("", "CN=alice,O=Acme,C=US") == "CN=alice,O=Acme,C=US");
  CHECK(map("DEFAULT", "CN=alice,O=Acme") == "CN=alice,O=Acme");
  CHECK(map("  DEFAULT  ", "CN=a") == "CN=a");
}

TEST_CASE("principal mapping: Kafka's CN rule takes the common name") {
  const char* rules = "RULE:^CN=(.*?),.*$/$1/";
  CHECK(map(rules, "CN=alice,OU=eng,O=Acme,C=US") == "alice");
  // A subject with the CN alone has no ',' after it: the rule does not
  // apply and, without DEFAULT after it, the subject is refused.
  CHECK(map(rules, "CN=alice") == "<refused>");
  CHECK(map(std::string(rules) + ",DEFAULT", "CN=alice") == "CN=alice");
}

TEST_CASE("principal mapping: rules are tried in order; L and U fold the case") {
  const char* rules =
      "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),"
      "C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,DEFAULT";
  // Kafka's documentation example.
  CHECK(map(rules, "CN=kafka-svc,OU=ServiceUsers,O=Acme") == "kafka-svc");
  CHECK(map(rules, "CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Palo Alto,ST=CA,C=US") ==
        "duke@javasoft");
  CHECK(map(rules, "O=x,CN=bob.smith") == "BOB.SMITH");
  CHECK(map(rules, "O=nothing") == "O=nothing");
}

TEST_CASE("principal mapping: escaped slash, groups beyond 9 and an empty result") {
  CHECK(map(R"(RULE:^CN=(.*)\/(.*)$/$2-$1/)", "CN=a/b") == "b-a");
  CHECK(map("RULE:^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)$/$10$1/", "abcdefghij") == "ja");
  // A rule that maps to nothing refuses rather than make the principal "User:".
  CHECK(map("RULE:^CN=(.*)$/$1/", "CN=") == "<refused>");
  CHECK(map("DEFAULT", "") == "<refused>");
}

TEST_CASE("principal mapping: malformed rules are configuration errors") {
  for (const char* bad :
       {"RULE:^CN=(.*)$", "RULE:^CN=(.*)$/$1", "RULE:^CN=(.*$/$1/", "RULE:^CN=(.*)$/$2/",
        "RULE:^CN=(.*)$/$x/", "DEFAULTS", "KERBEROS", "RULE:a/b/X", "DEFAULT,"}) {
    INFO(bad);
    auto mapper = SslPrincipalMapper::parse(bad);
    REQUIRE_FALSE(mapper);
    CHECK(mapper.error().code == ErrorCode::kInvalidConfig);
    CHECK(mapper.error().message.find("ssl.principal.mapping.rules") != std::string::npos);
  }
}

TEST_CASE("principal mapping: an overlong subject is refused before any rule runs") {
  CHECK(map("DEFAULT", "CN=" + std::string(SslPrincipalMapper::kMaxSubjectBytes, 'a')) ==
        "<refused>");
  CHECK(map("RULE:^CN=(.*?),.*$/$1/", "CN=x," + std::string(1000, 'b')) == "x");
}
