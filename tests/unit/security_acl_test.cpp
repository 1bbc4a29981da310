#include <doctest/doctest.h>

#include "security/acl.h"
#include "security/authorizer.h"
#include "security/authorizer_cache.h"

using namespace dmq::security;

namespace {

AclBinding acl(std::string principal, AclOperation op, AclPermissionType perm,
               std::string name = "orders", PatternType pattern = PatternType::kLiteral,
               ResourceType type = ResourceType::kTopic, std::string host = "*") {
  return AclBinding{type, std::move(name), pattern, std::move(principal), std::move(host), op,
                    perm};
}

constexpr auto kAllow = AclPermissionType::kAllow;
constexpr auto kDeny = AclPermissionType::kDeny;

bool can(const Authorizer& a, std::string principal, AclOperation op, std::string topic = "orders",
         std::string host = "10.0.0.1") {
  return a.authorize(principal, host, op, ResourceType::kTopic, topic);
}

}  // namespace

TEST_CASE("ACL names and codes are Kafka's") {
  CHECK(static_cast<int>(AclOperation::kIdempotentWrite) == 12);
  CHECK(static_cast<int>(ResourceType::kTransactionalId) == 5);
  CHECK(static_cast<int>(PatternType::kPrefixed) == 4);
  CHECK(static_cast<int>(AclPermissionType::kAllow) == 3);
  CHECK(acl_operation_name(AclOperation::kDescribeConfigs) == "DESCRIBE_CONFIGS");
  CHECK(parse_acl_operation("describe_configs") == AclOperation::kDescribeConfigs);
  CHECK(parse_resource_type("Topic") == ResourceType::kTopic);
  CHECK(parse_pattern_type("PREFIXED") == PatternType::kPrefixed);
  CHECK(parse_permission_type("deny") == AclPermissionType::kDeny);
  CHECK_FALSE(parse_acl_operation("UNKNOWN"));
  CHECK_FALSE(parse_acl_operation("READS"));
  CHECK_FALSE(parse_resource_type(""));
}

TEST_CASE("authorizer: ALLOW grants, nothing else does, DENY wins over ALLOW") {
  Authorizer a({});
  REQUIRE(a.add(acl("User:alice", AclOperation::kRead, kAllow)));
  CHECK(can(a, "User:alice", AclOperation::kRead));
  CHECK_FALSE(can(a, "User:alice", AclOperation::kWrite));
  CHECK_FALSE(can(a, "User:bob", AclOperation::kRead));
  REQUIRE(a.add(acl("User:alice", AclOperation::kRead, kDeny, "*", PatternType::kLiteral,
                    ResourceType::kTopic, "10.0.0.1")));
  CHECK_FALSE(can(a, "User:alice", AclOperation::kRead));
  CHECK(can(a, "User:alice", AclOperation::kRead, "orders", "10.0.0.2"));  // other host
  // DENY ALL for everyone beats a specific ALLOW.
  REQUIRE(a.add(acl("User:*", AclOperation::kAll, kDeny, "secret")));
  REQUIRE(a.add(acl("User:carol", AclOperation::kRead, kAllow, "secret")));
  CHECK_FALSE(can(a, "User:carol", AclOperation::kRead, "secret"));
}

TEST_CASE("authorizer: ALL, implied DESCRIBE and DESCRIBE_CONFIGS; no implication for DENY") {
  Authorizer a({});
  REQUIRE(a.add(acl("User:alice", AclOperation::kAll, kAllow)));
  for (auto op : {AclOperation::kRead, AclOperation::kWrite, AclOperation::kAlterConfigs,
                  AclOperation::kDescribe}) {
    CHECK(can(a, "User:alice", op));
  }
  for (auto op :
       {AclOperation::kRead, AclOperation::kWrite, AclOperation::kDelete, AclOperation::kAlter}) {
    Authorizer b({});
    REQUIRE(b.add(acl("User:bob", op, kAllow)));
    CHECK(can(b, "User:bob", AclOperation::kDescribe));
    CHECK_FALSE(can(b, "User:bob", AclOperation::kDescribeConfigs));
  }
  Authorizer c({});
  REQUIRE(c.add(acl("User:bob", AclOperation::kAlterConfigs, kAllow)));
  CHECK(can(c, "User:bob", AclOperation::kDescribeConfigs));
  CHECK_FALSE(can(c, "User:bob", AclOperation::kDescribe));
  Authorizer d({});
  REQUIRE(d.add(acl("User:bob", AclOperation::kRead, kAllow)));
  REQUIRE(d.add(acl("User:bob", AclOperation::kRead, kDeny)));
  REQUIRE(d.add(acl("User:bob", AclOperation::kDescribe, kAllow)));
  CHECK_FALSE(can(d, "User:bob", AclOperation::kRead));
  CHECK(can(d, "User:bob", AclOperation::kDescribe));  // DENY READ does not deny DESCRIBE
}

TEST_CASE("authorizer: prefixed versus literal patterns, wildcard resource and principal") {
  Authorizer a({});
  REQUIRE(a.add(acl("User:alice", AclOperation::kWrite, kAllow, "logs-", PatternType::kPrefixed)));
  REQUIRE(a.add(acl("User:bob", AclOperation::kWrite, kAllow, "logs-")));
  CHECK(can(a, "User:alice", AclOperation::kWrite, "logs-app"));
  CHECK(can(a, "User:alice", AclOperation::kWrite, "logs-"));
  CHECK_FALSE(can(a, "User:alice", AclOperation::kWrite, "logs"));
  CHECK_FALSE(can(a, "User:bob", AclOperation::kWrite, "logs-app"));  // literal: exact only
  CHECK(can(a, "User:bob", AclOperation::kWrite, "logs-"));
  REQUIRE(a.add(acl("User:*", AclOperation::kRead, kAllow, "*")));
  CHECK(can(a, "User:anyone", AclOperation::kRead, "whatever"));
  CHECK_FALSE(can(a, "User:anyone", AclOperation::kWrite, "whatever"));
  // A group ACL does not apply to a topic of the same name.
  CHECK_FALSE(a.authorize("User:anyone", "h", AclOperation::kRead, ResourceType::kGroup, "x"));
}

TEST_CASE("authorizer: super users and allow.everyone.if.no.acl.found") {
  auto supers = parse_super_users(" User:admin ; User:ops;;");
  REQUIRE(supers.ok());
  CHECK(supers.value().size() == 2);
  CHECK(parse_super_users("User:a;alice").error().code == ErrorCode::kInvalidConfig);
  CHECK(parse_super_users("").value().empty());

  Authorizer strict({supers.value(), false});
  CHECK(can(strict, "User:admin", AclOperation::kAlter));
  CHECK_FALSE(can(strict, "User:alice", AclOperation::kRead));  // no ACL: deny by default
  REQUIRE(strict.add(acl("User:admin", AclOperation::kAll, kDeny)));
  CHECK(can(strict, "User:admin", AclOperation::kRead));  // super users skip ACLs, even DENY

  Authorizer open({{}, true});
  CHECK(can(open, "User:alice", AclOperation::kRead));  // no ACL on the resource
  REQUIRE(open.add(acl("User:bob", AclOperation::kRead, kAllow)));
  CHECK_FALSE(can(open, "User:alice", AclOperation::kRead));  // now one applies
  CHECK(can(open, "User:alice", AclOperation::kRead, "other"));
  REQUIRE(open.add(acl("User:bob", AclOperation::kRead, kAllow, "oth", PatternType::kPrefixed)));
  CHECK_FALSE(can(open, "User:alice", AclOperation::kRead, "other"));
}

TEST_CASE("authorizer: add is idempotent, remove forgets, invalid bindings refused") {
  Authorizer a({});
  auto b = acl("User:alice", AclOperation::kRead, kAllow);
  REQUIRE(a.add(b));
  REQUIRE(a.add(b));
  CHECK(a.size() == 1);
  CHECK(a.remove(b));
  CHECK_FALSE(a.remove(b));
  CHECK_FALSE(can(a, "User:alice", AclOperation::kRead));
  CHECK(a.add(acl("alice", AclOperation::kRead, kAllow)).error().code == ErrorCode::kInvalidAcl);
  CHECK_FALSE(a.add(acl("User:a", AclOperation::kAny, kAllow)));
  CHECK_FALSE(a.add(acl("User:a", AclOperation::kRead, AclPermissionType::kAny)));
  CHECK_FALSE(a.add(acl("User:a", AclOperation::kRead, kAllow, "x", PatternType::kMatch)));
  CHECK_FALSE(a.add(acl("User:a", AclOperation::kRead, kAllow, "")));
  CHECK_FALSE(a.add(acl("User:a", AclOperation::kAlter, kAllow, "c", PatternType::kLiteral,
                        ResourceType::kCluster)));
  CHECK(a.add(acl("User:a", AclOperation::kAlter, kAllow, "kafka-cluster", PatternType::kLiteral,
                  ResourceType::kCluster)));
  CHECK_FALSE(a.add(acl("User:a b", AclOperation::kRead, kAllow)));
}

TEST_CASE("ACL filters follow Kafka's matching rules, MATCH included") {
  Authorizer a({});
  auto lit = acl("User:alice", AclOperation::kRead, kAllow, "orders");
  auto wild = acl("User:bob", AclOperation::kWrite, kAllow, "*");
  auto pre = acl("User:carol", AclOperation::kRead, kDeny, "ord", PatternType::kPrefixed);
  auto other = acl("User:dave", AclOperation::kRead, kAllow, "payments");
  auto group = acl("User:alice", AclOperation::kRead, kAllow, "orders", PatternType::kLiteral,
                   ResourceType::kGroup);
  for (const auto& b : {lit, wild, pre, other, group}) REQUIRE(a.add(b));
  CHECK(a.find(AclBindingFilter{}).size() == 5);
  AclBindingFilter match;
  match.resource_type = ResourceType::kTopic;
  match.resource_name = "orders";
  match.pattern_type = PatternType::kMatch;
  CHECK(a.find(match) == std::vector<AclBinding>{wild, pre, lit});  // sorted by name
  AclBindingFilter any_pattern = match;
  any_pattern.pattern_type = PatternType::kAny;
  CHECK(a.find(any_pattern) == std::vector<AclBinding>{lit});
  AclBindingFilter prefixed;
  prefixed.pattern_type = PatternType::kPrefixed;
  CHECK(a.find(prefixed) == std::vector<AclBinding>{pre});
  AclBindingFilter by_entry;
  by_entry.principal = "User:alice";
  by_entry.operation = AclOperation::kRead;
  CHECK(a.find(by_entry).size() == 2);
  by_entry.permission = kDeny;
  CHECK(a.find(by_entry).empty());
  AclBindingFilter unknown;
  unknown.operation = AclOperation::kUnknown;
  CHECK(validate_acl_filter(unknown).error().code == ErrorCode::kInvalidAcl);
}

TEST_CASE("ACL REST fields and JSON") {
  auto fields = acl_fields_from_json(
      R"({"principal":"User:alice","resource_type":"topic","resource_name":"orders",)"
      R"("pattern_type":"PREFIXED","operation":"READ","permission_type":"ALLOW"})");
  REQUIRE(fields.ok());
  auto b = acl_binding_from_fields(fields.value());
  REQUIRE(b.ok());
  CHECK(b.value().host == "*");
  CHECK(b.value().pattern_type == PatternType::kPrefixed);
  std::string json = acl_binding_to_json(b.value());
  CHECK(json ==
        R"({"principal":"User:alice","host":"*","resource_type":"TOPIC","resource_name":"orders",)"
        R"("pattern_type":"PREFIXED","operation":"READ","permission_type":"ALLOW"})");
  CHECK(acl_binding_from_fields(acl_fields_from_json(json).value()).value() == b.value());

  AclFields missing = fields.value();
  missing.erase("operation");
  CHECK(acl_binding_from_fields(missing).error().message.find("operation") != std::string::npos);
  AclFields bad = fields.value();
  bad["operation"] = "FLY";
  CHECK(acl_binding_from_fields(bad).error().code == ErrorCode::kInvalidAcl);
  AclFields extra = fields.value();
  extra["color"] = "red";
  CHECK(acl_binding_from_fields(extra).error().code == ErrorCode::kInvalidAcl);
  CHECK(acl_fields_from_json(R"({"principal":1})").error().code == ErrorCode::kMalformed);
  CHECK(acl_fields_from_json("[]").error().code == ErrorCode::kMalformed);

  auto f = acl_filter_from_fields({{"principal", "User:alice"}, {"pattern_type", "MATCH"}});
  REQUIRE(f.ok());
  CHECK(f.value().resource_type == ResourceType::kAny);
  CHECK(f.value().pattern_type == PatternType::kMatch);
  CHECK(f.value().principal == "User:alice");
  CHECK_FALSE(f.value().resource_name);
}

TEST_CASE("ACL record encoding round-trips and refuses bad bytes") {
  auto b = acl("User:alice", AclOperation::kIdempotentWrite, kAllow, "kafka-cluster",
               PatternType::kLiteral, ResourceType::kCluster, "10.1.2.3");
  std::string bytes = encode_acl_binding(b);
  auto back = decode_acl_binding(bytes);
  REQUIRE(back.ok());
  CHECK(back.value() == b);
  CHECK_FALSE(decode_acl_binding(bytes + "x").ok());
  CHECK_FALSE(decode_acl_binding(bytes.substr(0, bytes.size() - 1)).ok());
  for (size_t i = 0; i < 5; ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(0x7f);
    CHECK(decode_acl_binding(bad).error().code == ErrorCode::kMalformed);
  }
  CHECK_FALSE(decode_acl_binding("").ok());
}

TEST_CASE("ACL lists to and from JSON, as GET and DELETE /v1/acls answer them") {
  std::vector<AclBinding> bindings = {
      acl("User:alice", AclOperation::kRead, kAllow),
      acl("User:b\"ob", AclOperation::kWrite, kDeny, "pre-", PatternType::kPrefixed)};
  std::string json = acl_bindings_to_json("deleted", bindings);
  auto back = acl_bindings_from_json(json, "deleted");
  REQUIRE(back.ok());
  CHECK(back.value() == bindings);
  CHECK(acl_bindings_to_json("acls", {}) == "{\"acls\":[]}");
  CHECK_FALSE(acl_bindings_from_json(json, "acls").ok());
  CHECK_FALSE(acl_bindings_from_json("{\"deleted\":[1]}", "deleted").ok());
  CHECK_FALSE(acl_bindings_from_json("{\"deleted\":[{\"principal\":1}]}", "deleted").ok());
  CHECK_FALSE(acl_bindings_from_json("[]", "deleted").ok());
}

TEST_CASE("authorizer cache: rebuilt only when the encoded set changes") {
  AuthorizerCache cache(AuthorizerConfig{{"User:root"}, false});
  EncodedAcls set = {encode_acl_binding(acl("User:alice", AclOperation::kRead, kAllow)),
                     "\x09not a binding"};
  auto owner1 = std::make_shared<int>(1);
  auto a1 = cache.get(owner1, set);
  CHECK(a1->size() == 1);  // the undecodable entry is skipped
  CHECK(can(*a1, "User:alice", AclOperation::kRead));
  CHECK(cache.get(owner1, set) == a1);
  // A new image with the same ACLs keeps the authorizer.
  auto owner2 = std::make_shared<int>(2);
  CHECK(cache.get(owner2, set) == a1);
  set.insert(encode_acl_binding(acl("User:*", AclOperation::kRead, kDeny)));
  auto owner3 = std::make_shared<int>(3);
  auto a3 = cache.get(owner3, set);
  CHECK(a3 != a1);
  CHECK_FALSE(can(*a3, "User:alice", AclOperation::kRead));
  CHECK(can(*a3, "User:root", AclOperation::kRead));
  CHECK(can(*a1, "User:alice", AclOperation::kRead));  // an old snapshot stays usable
}

TEST_CASE("authorize_by_resource_type: Kafka's KIP-679 rules, DENY wins") {
  auto make = [](std::vector<AclBinding> acls, std::set<std::string, std::less<>> supers = {}) {
    Authorizer a(AuthorizerConfig{std::move(supers), false});
    for (const auto& b : acls) REQUIRE(a.add(b));
    return a;
  };
  const auto kWrite = AclOperation::kWrite;
  const auto kTopic = ResourceType::kTopic;
  auto allowed = [&](const Authorizer& a, std::string principal = "User:alice") {
    return a.authorize_by_resource_type(principal, "10.0.0.1", kWrite, kTopic);
  };
  // No ACL at all: denied (allow.everyone.if.no.acl.found is false).
  CHECK_FALSE(allowed(make({})));
  CHECK(allowed(make({}, {"User:alice"})));
  // An ALLOW on one topic allows; a DENY on the same literal name cancels it.
  CHECK(allowed(make({acl("User:alice", kWrite, kAllow, "orders")})));
  CHECK_FALSE(allowed(make(
      {acl("User:alice", kWrite, kAllow, "orders"), acl("User:alice", kWrite, kDeny, "orders")})));
  // A PREFIXED DENY dominates literal and longer prefixed ALLOWs under it.
  CHECK_FALSE(allowed(make({acl("User:alice", kWrite, kAllow, "orders"),
                            acl("User:alice", kWrite, kAllow, "ord", PatternType::kPrefixed),
                            acl("User:alice", kWrite, kDeny, "or", PatternType::kPrefixed)})));
  // ... but not an ALLOW elsewhere.
  CHECK(allowed(make({acl("User:alice", kWrite, kAllow, "orders"),
                      acl("User:alice", kWrite, kAllow, "payments"),
                      acl("User:alice", kWrite, kDeny, "or", PatternType::kPrefixed)})));
  // A DENY on "*" denies everything, an ALLOW on "*" allows; User:* and ALL count.
  CHECK_FALSE(allowed(make({acl("User:alice", kWrite, kAllow, "orders"),
                            acl("User:*", AclOperation::kAll, kDeny, "*")})));
  CHECK(allowed(make({acl("User:*", kWrite, kAllow, "*")})));
  // Another principal's ALLOW and another operation's ALLOW do not count;
  // super users pass over any DENY.
  CHECK_FALSE(allowed(make({acl("User:bob", kWrite, kAllow, "orders"),
                            acl("User:alice", AclOperation::kRead, kAllow, "orders")})));
  CHECK(allowed(make({acl("User:alice", kWrite, kDeny, "*")}, {"User:alice"})));
}
