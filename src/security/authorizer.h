#pragma once
// Kafka's ACL authorizer (AclAuthorizer / KRaft's StandardAuthorizer rules):
//
//  1. a super user (super.users) is always allowed;
//  2. the ACLs that apply to a resource are its LITERAL ones, the LITERAL
//     "*" ones of its type, and the PREFIXED ones whose name is a prefix of
//     the resource name;
//  3. none apply -> allowed iff allow.everyone.if.no.acl.found;
//  4. an applying DENY whose principal (or User:*), host (or *) and
//     operation (or ALL) match -> denied: DENY wins;
//  5. an applying ALLOW likewise -> allowed, where READ, WRITE, DELETE and
//     ALTER also allow DESCRIBE, and ALTER_CONFIGS allows DESCRIBE_CONFIGS
//     (implication never applies to DENY);
//  6. otherwise denied.
//
// Pure and single-threaded: the owner (the broker's metadata apply, on the
// loop thread) adds and removes bindings as ACL records are applied, and
// authorize() is called on the same thread.

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "security/acl.h"
#include "security/error.h"

namespace dmq::security {

// Parses super.users: "User:a;User:b" (spaces around entries ignored, empty
// entries skipped). kInvalidConfig naming the entry's position for a bad principal.
Result<std::set<std::string, std::less<>>> parse_super_users(std::string_view text);

struct AuthorizerConfig {
  std::set<std::string, std::less<>> super_users;
  bool allow_everyone_if_no_acl_found = false;
};

class Authorizer {
 public:
  explicit Authorizer(AuthorizerConfig config) : config_(std::move(config)) {}

  // kInvalidAcl for a binding validate_acl_binding refuses; adding one that
  // exists is a no-op.
  Status add(const AclBinding& binding);
  // False when the binding was not there.
  bool remove(const AclBinding& binding);
  // DescribeAcls: the bindings the filter matches, in a stable order.
  std::vector<AclBinding> find(const AclBindingFilter& filter) const;
  size_t size() const { return bindings_.size(); }

  // `principal` as "User:alice" (or "User:ANONYMOUS"), `host` the client's
  // address text. `operation` must be a concrete operation (not ANY/UNKNOWN).
  bool authorize(std::string_view principal, std::string_view host, AclOperation operation,
                 ResourceType resource_type, std::string_view resource_name) const;
  // KIP-679's "may `operation` some resource of this type" (Kafka's
  // Authorizer.authorizeByResourceType, used for InitProducerId's WRITE on
  // any topic): a super user (or what authorize() allows on a name no ACL
  // names) is allowed; a LITERAL "*" DENY denies; a LITERAL "*" ALLOW
  // allows; else some ALLOW (LITERAL or PREFIXED) that no DENY dominates
  // (the same LITERAL name, or a PREFIXED DENY that is a prefix of it)
  // allows. Only `operation` and ALL count (no implication).
  bool authorize_by_resource_type(std::string_view principal, std::string_view host,
                                  AclOperation operation, ResourceType resource_type) const;

 private:
  // (resource type, pattern type) -> resource name -> bindings.
  using Bucket = std::vector<const AclBinding*>;
  using NameIndex = std::map<std::string, Bucket, std::less<>>;
  // ACL entries applying to `name`: literal, wildcard, prefixed.
  std::vector<const AclBinding*> applying(ResourceType type, std::string_view name) const;
  void collect(ResourceType type, PatternType pattern, std::string_view name,
               std::vector<const AclBinding*>& out) const;

  AuthorizerConfig config_;
  std::set<AclBinding> bindings_;
  std::map<std::pair<ResourceType, PatternType>, NameIndex> by_pattern_;
};

}  // namespace dmq::security
