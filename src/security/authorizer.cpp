#include "security/authorizer.h"

#include <algorithm>

namespace dmq::security {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool entry_matches(const AclBinding& acl, std::string_view principal, std::string_view host,
                   AclOperation op) {
  // Kafka always adds User:* to the principals that match, whatever the type.
  if (acl.principal != principal && acl.principal != kWildcardPrincipal) return false;
  if (acl.host != host && acl.host != kWildcardHost) return false;
  return acl.operation == op || acl.operation == AclOperation::kAll;
}

// The operations whose ALLOW also allows `op` (Kafka's implied operations).
std::vector<AclOperation> allowing_ops(AclOperation op) {
  if (op == AclOperation::kDescribe) {
    return {AclOperation::kDescribe, AclOperation::kRead, AclOperation::kWrite,
            AclOperation::kDelete, AclOperation::kAlter};
  }
  if (op == AclOperation::kDescribeConfigs) {
    return {AclOperation::kDescribeConfigs, AclOperation::kAlterConfigs};
  }
  return {op};
}

}  // namespace

Result<std::set<std::string, std::less<>>> parse_super_users(std::string_view text) {
  std::set<std::string, std::less<>> users;
  size_t index = 0;
  while (true) {
    size_t semi = text.find(';');
    std::string_view entry = trim(text.substr(0, semi));
    ++index;
    if (!entry.empty()) {
      if (!validate_principal(entry)) {
        return make_error(ErrorCode::kInvalidConfig, "super.users entry " + std::to_string(index) +
                                                         " is not a principal like User:alice");
      }
      users.emplace(entry);
    }
    if (semi == std::string_view::npos) return users;
    text.remove_prefix(semi + 1);
  }
}

Status Authorizer::add(const AclBinding& binding) {
  if (auto s = validate_acl_binding(binding); !s) return s;
  auto [it, inserted] = bindings_.insert(binding);
  if (inserted) {
    by_pattern_[{binding.resource_type, binding.pattern_type}][binding.resource_name].push_back(
        &*it);
  }
  return Ok{};
}

bool Authorizer::remove(const AclBinding& binding) {
  auto it = bindings_.find(binding);
  if (it == bindings_.end()) return false;
  auto names = by_pattern_.find({binding.resource_type, binding.pattern_type});
  DMQ_ASSERT(names != by_pattern_.end());
  auto bucket = names->second.find(binding.resource_name);
  DMQ_ASSERT(bucket != names->second.end());
  std::erase(bucket->second, &*it);
  if (bucket->second.empty()) names->second.erase(bucket);
  if (names->second.empty()) by_pattern_.erase(names);
  bindings_.erase(it);
  return true;
}

std::vector<AclBinding> Authorizer::find(const AclBindingFilter& filter) const {
  std::vector<AclBinding> out;
  for (const AclBinding& b : bindings_) {
    if (filter.matches(b)) out.push_back(b);
  }
  return out;
}

void Authorizer::collect(ResourceType type, PatternType pattern, std::string_view name,
                         std::vector<const AclBinding*>& out) const {
  auto names = by_pattern_.find({type, pattern});
  if (names == by_pattern_.end()) return;
  auto it = names->second.find(name);
  if (it != names->second.end()) out.insert(out.end(), it->second.begin(), it->second.end());
}

std::vector<const AclBinding*> Authorizer::applying(ResourceType type,
                                                    std::string_view name) const {
  std::vector<const AclBinding*> out;
  collect(type, PatternType::kLiteral, name, out);
  if (name != kWildcardResource) collect(type, PatternType::kLiteral, kWildcardResource, out);
  // Every prefix, the whole name included (KIP-290: "foo" matches "foo").
  for (size_t len = 1; len <= name.size(); ++len) {
    collect(type, PatternType::kPrefixed, name.substr(0, len), out);
  }
  return out;
}

bool Authorizer::authorize(std::string_view principal, std::string_view host,
                           AclOperation operation, ResourceType resource_type,
                           std::string_view resource_name) const {
  DMQ_ASSERT(operation != AclOperation::kAny);
  DMQ_ASSERT(operation != AclOperation::kUnknown);
  if (config_.super_users.count(principal) > 0) return true;
  std::vector<const AclBinding*> acls = applying(resource_type, resource_name);
  if (acls.empty()) return config_.allow_everyone_if_no_acl_found;
  for (const AclBinding* acl : acls) {
    if (acl->permission == AclPermissionType::kDeny &&
        entry_matches(*acl, principal, host, operation)) {
      return false;
    }
  }
  for (AclOperation op : allowing_ops(operation)) {
    for (const AclBinding* acl : acls) {
      if (acl->permission == AclPermissionType::kAllow &&
          entry_matches(*acl, principal, host, op)) {
        return true;
      }
    }
  }
  return false;
}

bool Authorizer::authorize_by_resource_type(std::string_view principal, std::string_view host,
                                            AclOperation operation,
                                            ResourceType resource_type) const {
  // Kafka asks authorize() about a made-up name first: super users pass
  // whatever DENY says, and so does allow.everyone.if.no.acl.found.
  if (authorize(principal, host, operation, resource_type, "hardcode")) return true;
  std::set<std::string_view> deny_literal, deny_prefixed, allow_literal, allow_prefixed;
  for (const AclBinding& acl : bindings_) {
    if (acl.resource_type != resource_type || !entry_matches(acl, principal, host, operation)) {
      continue;
    }
    const bool literal = acl.pattern_type == PatternType::kLiteral;
    if (acl.permission == AclPermissionType::kDeny) {
      if (literal && acl.resource_name == kWildcardResource) return false;
      (literal ? deny_literal : deny_prefixed).insert(acl.resource_name);
    } else if (acl.permission == AclPermissionType::kAllow) {
      (literal ? allow_literal : allow_prefixed).insert(acl.resource_name);
    }
  }
  if (allow_literal.count(kWildcardResource) > 0) return true;
  // A PREFIXED DENY on any prefix of an allowed name dominates it.
  auto dominated = [&deny_prefixed](std::string_view name) {
    for (size_t n = 1; n <= name.size(); ++n) {
      if (deny_prefixed.count(name.substr(0, n)) > 0) return true;
    }
    return false;
  };
  for (std::string_view name : allow_literal) {
    if (deny_literal.count(name) == 0 && !dominated(name)) return true;
  }
  for (std::string_view name : allow_prefixed) {
    if (!dominated(name)) return true;
  }
  return false;
}

}  // namespace dmq::security
