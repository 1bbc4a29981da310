// ACL names, validation and filter matching, as Kafka's
// org.apache.kafka.common.acl and ResourcePatternFilter.
#include "security/acl.h"

#include <array>
#include <utility>

namespace dmq::security {
namespace {

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<ResourceType, 8> kResourceTypes{{
    {ResourceType::kUnknown, "UNKNOWN"},
    {ResourceType::kAny, "ANY"},
    {ResourceType::kTopic, "TOPIC"},
    {ResourceType::kGroup, "GROUP"},
    {ResourceType::kCluster, "CLUSTER"},
    {ResourceType::kTransactionalId, "TRANSACTIONAL_ID"},
    {ResourceType::kDelegationToken, "DELEGATION_TOKEN"},
    {ResourceType::kUser, "USER"},
}};
constexpr NameTable<PatternType, 5> kPatternTypes{{
    {PatternType::kUnknown, "UNKNOWN"},
    {PatternType::kAny, "ANY"},
    {PatternType::kMatch, "MATCH"},
    {PatternType::kLiteral, "LITERAL"},
    {PatternType::kPrefixed, "PREFIXED"},
}};
constexpr NameTable<AclOperation, 15> kOperations{{
    {AclOperation::kUnknown, "UNKNOWN"},
    {AclOperation::kAny, "ANY"},
    {AclOperation::kAll, "ALL"},
    {AclOperation::kRead, "READ"},
    {AclOperation::kWrite, "WRITE"},
    {AclOperation::kCreate, "CREATE"},
    {AclOperation::kDelete, "DELETE"},
    {AclOperation::kAlter, "ALTER"},
    {AclOperation::kDescribe, "DESCRIBE"},
    {AclOperation::kClusterAction, "CLUSTER_ACTION"},
    {AclOperation::kDescribeConfigs, "DESCRIBE_CONFIGS"},
    {AclOperation::kAlterConfigs, "ALTER_CONFIGS"},
    {AclOperation::kIdempotentWrite, "IDEMPOTENT_WRITE"},
    {AclOperation::kCreateTokens, "CREATE_TOKENS"},
    {AclOperation::kDescribeTokens, "DESCRIBE_TOKENS"},
}};
constexpr NameTable<AclPermissionType, 4> kPermissions{{
    {AclPermissionType::kUnknown, "UNKNOWN"},
    {AclPermissionType::kAny, "ANY"},
    {AclPermissionType::kDeny, "DENY"},
    {AclPermissionType::kAllow, "ALLOW"},
}};

template <typename E, size_t N>
std::string_view name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "UNKNOWN";
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

template <typename E, size_t N>
std::optional<E> value_of(const NameTable<E, N>& table, std::string_view name) {
  for (const auto& [v, n] : table) {
    if (v != E::kUnknown && iequals(name, n)) return v;
  }
  return std::nullopt;
}

Error invalid(std::string what) {
  return make_error(ErrorCode::kInvalidAcl, std::move(what));
}

bool has_control_or_space(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Kafka's ResourcePatternFilter.matches.
bool pattern_matches(const AclBindingFilter& f, const AclBinding& b) {
  if (f.resource_type != ResourceType::kAny && f.resource_type != b.resource_type) return false;
  if (f.pattern_type != PatternType::kAny && f.pattern_type != PatternType::kMatch &&
      f.pattern_type != b.pattern_type) {
    return false;
  }
  if (!f.resource_name) return true;
  const std::string& name = *f.resource_name;
  if (f.pattern_type == PatternType::kAny || f.pattern_type == b.pattern_type) {
    return name == b.resource_name;
  }
  // kMatch: every stored pattern that would apply to a resource called `name`.
  if (b.pattern_type == PatternType::kLiteral) {
    return name == b.resource_name || b.resource_name == kWildcardResource;
  }
  return b.pattern_type == PatternType::kPrefixed && name.starts_with(b.resource_name);
}

}  // namespace

std::string_view resource_type_name(ResourceType v) {
  return name_of(kResourceTypes, v);
}
std::string_view pattern_type_name(PatternType v) {
  return name_of(kPatternTypes, v);
}
std::string_view acl_operation_name(AclOperation v) {
  return name_of(kOperations, v);
}
std::string_view permission_type_name(AclPermissionType v) {
  return name_of(kPermissions, v);
}
std::optional<ResourceType> parse_resource_type(std::string_view n) {
  return value_of(kResourceTypes, n);
}
std::optional<PatternType> parse_pattern_type(std::string_view n) {
  return value_of(kPatternTypes, n);
}
std::optional<AclOperation> parse_acl_operation(std::string_view n) {
  return value_of(kOperations, n);
}
std::optional<AclPermissionType> parse_permission_type(std::string_view n) {
  return value_of(kPermissions, n);
}

bool AclBindingFilter::matches(const AclBinding& b) const {
  if (!pattern_matches(*this, b)) return false;
  if (principal && *principal != b.principal) return false;
  if (host && *host != b.host) return false;
  if (operation != AclOperation::kAny && operation != b.operation) return false;
  return permission == AclPermissionType::kAny || permission == b.permission;
}

Status validate_principal(std::string_view principal) {
  size_t colon = principal.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == principal.size()) {
    return invalid("principal must be Type:name, e.g. User:alice");
  }
  if (principal.size() > kAclMaxStringBytes || has_control_or_space(principal)) {
    return invalid("principal has control characters, spaces or is too long");
  }
  return Ok{};
}

Status validate_acl_binding(const AclBinding& b) {
  auto concrete = [](auto v, auto any) { return v != decltype(v)::kUnknown && v != any; };
  if (!concrete(b.resource_type, ResourceType::kAny)) return invalid("resource_type must be set");
  if (b.pattern_type != PatternType::kLiteral && b.pattern_type != PatternType::kPrefixed) {
    return invalid("pattern_type must be LITERAL or PREFIXED");
  }
  if (!concrete(b.operation, AclOperation::kAny)) return invalid("operation must be set");
  if (!concrete(b.permission, AclPermissionType::kAny)) {
    return invalid("permission_type must be ALLOW or DENY");
  }
  if (auto s = validate_principal(b.principal); !s) return s;
  if (b.resource_name.empty() || b.resource_name.size() > kAclMaxStringBytes) {
    return invalid("resource_name must be 1 to 32767 bytes");
  }
  if (b.resource_type == ResourceType::kCluster && b.resource_name != kClusterResourceName) {
    return invalid("the only valid name for the CLUSTER resource is kafka-cluster");
  }
  if (b.host.empty() || b.host.size() > 255 || has_control_or_space(b.host)) {
    return invalid("host must be * or an address");
  }
  return Ok{};
}

Status validate_acl_filter(const AclBindingFilter& f) {
  if (f.resource_type == ResourceType::kUnknown || f.pattern_type == PatternType::kUnknown ||
      f.operation == AclOperation::kUnknown || f.permission == AclPermissionType::kUnknown) {
    return invalid("filter contains UNKNOWN elements");
  }
  return Ok{};
}

}  // namespace dmq::security
