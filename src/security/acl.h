#pragma once
// Kafka's ACL model (KIP-11, KIP-290 prefixed patterns): bindings of a
// resource pattern to an access-control entry, the filters DescribeAcls and
// DeleteAcls match with, names and numeric codes as Kafka's, validation, and
// two encodings: the REST/JSON field form and a binary metadata record.
//
// Pure values and functions; any thread.

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "security/error.h"

namespace dmq::security {

// Numeric values are Kafka's wire codes (org.apache.kafka.common.resource /
// org.apache.kafka.common.acl); never renumber.
enum class ResourceType : int8_t {
  kUnknown = 0,
  kAny = 1,  // filters only
  kTopic = 2,
  kGroup = 3,
  kCluster = 4,
  kTransactionalId = 5,
  kDelegationToken = 6,
  kUser = 7,
};
enum class PatternType : int8_t {
  kUnknown = 0,
  kAny = 1,    // filters only: any pattern type, exact name
  kMatch = 2,  // filters only: every pattern that would match the name
  kLiteral = 3,
  kPrefixed = 4,
};
enum class AclOperation : int8_t {
  kUnknown = 0,
  kAny = 1,  // filters only
  kAll = 2,
  kRead = 3,
  kWrite = 4,
  kCreate = 5,
  kDelete = 6,
  kAlter = 7,
  kDescribe = 8,
  kClusterAction = 9,
  kDescribeConfigs = 10,
  kAlterConfigs = 11,
  kIdempotentWrite = 12,
  kCreateTokens = 13,
  kDescribeTokens = 14,
};
enum class AclPermissionType : int8_t { kUnknown = 0, kAny = 1, kDeny = 2, kAllow = 3 };

// Kafka's names ("TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW", ...).
std::string_view resource_type_name(ResourceType v);
std::string_view pattern_type_name(PatternType v);
std::string_view acl_operation_name(AclOperation v);
std::string_view permission_type_name(AclPermissionType v);
// Case-insensitive, as Kafka's fromString; nullopt for an unknown name
// (never kUnknown: "UNKNOWN" is not accepted from users).
std::optional<ResourceType> parse_resource_type(std::string_view name);
std::optional<PatternType> parse_pattern_type(std::string_view name);
std::optional<AclOperation> parse_acl_operation(std::string_view name);
std::optional<AclPermissionType> parse_permission_type(std::string_view name);

inline constexpr std::string_view kWildcardResource = "*";
inline constexpr std::string_view kWildcardPrincipal = "User:*";
inline constexpr std::string_view kWildcardHost = "*";
inline constexpr std::string_view kClusterResourceName = "kafka-cluster";
inline constexpr size_t kAclMaxStringBytes = 32767;  // Kafka's STRING limit

struct AclBinding {
  ResourceType resource_type = ResourceType::kTopic;
  std::string resource_name;
  PatternType pattern_type = PatternType::kLiteral;
  std::string principal;  // "User:alice", or "User:*" for everyone
  std::string host = std::string(kWildcardHost);
  AclOperation operation = AclOperation::kRead;
  AclPermissionType permission = AclPermissionType::kAllow;
  friend auto operator<=>(const AclBinding&, const AclBinding&) = default;
};

// nullopt strings match anything; kAny enums match anything.
struct AclBindingFilter {
  ResourceType resource_type = ResourceType::kAny;
  std::optional<std::string> resource_name;
  PatternType pattern_type = PatternType::kAny;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  AclOperation operation = AclOperation::kAny;
  AclPermissionType permission = AclPermissionType::kAny;
  // Kafka's AclBindingFilter.matches: exact comparisons, except that
  // pattern_type kMatch matches the literal name, the literal "*" and every
  // prefixed pattern that is a prefix of resource_name.
  bool matches(const AclBinding& binding) const;
};

// "Type:name" with both parts non-empty (Kafka's parseKafkaPrincipal), no
// control characters. kInvalidAcl otherwise.
Status validate_principal(std::string_view principal);
// A binding CreateAcls may store: concrete types (no ANY/MATCH/UNKNOWN), a
// valid principal, a non-empty name ("kafka-cluster" for CLUSTER), a host.
Status validate_acl_binding(const AclBinding& binding);
// A filter DescribeAcls/DeleteAcls may use: no UNKNOWN element.
Status validate_acl_filter(const AclBindingFilter& filter);

// REST form (DESIGN §5): string fields "principal", "host", "resource_type",
// "resource_name", "pattern_type", "operation", "permission_type".
using AclFields = std::map<std::string, std::string, std::less<>>;
// host defaults to "*", pattern_type to LITERAL; the rest are required.
// kInvalidAcl naming the bad field (not its value) for unknown fields and bad values.
Result<AclBinding> acl_binding_from_fields(const AclFields& fields);
// Every field optional (absent = any).
Result<AclBindingFilter> acl_filter_from_fields(const AclFields& fields);
// A JSON object of string members -> fields. kMalformed otherwise.
Result<AclFields> acl_fields_from_json(std::string_view json);
// {"principal":..,"host":..,"resource_type":..,"resource_name":..,
//  "pattern_type":..,"operation":..,"permission_type":..}
std::string acl_binding_to_json(const AclBinding& binding);
// {"<key>":[binding, ...]} (GET /v1/acls answers "acls", DELETE "deleted").
std::string acl_bindings_to_json(std::string_view key, const std::vector<AclBinding>& bindings);
// The inverse, for a broker reading the controller's answer: kMalformed or
// kInvalidAcl for anything else.
Result<std::vector<AclBinding>> acl_bindings_from_json(std::string_view json, std::string_view key);

// Metadata record form: version byte 1, then resource type, pattern type,
// operation, permission (one byte each, Kafka codes), then resource name,
// principal, host (u16 length + bytes each). decode refuses anything else
// and anything validate_acl_binding refuses (kMalformed).
std::string encode_acl_binding(const AclBinding& binding);
Result<AclBinding> decode_acl_binding(std::string_view bytes);

}  // namespace dmq::security
