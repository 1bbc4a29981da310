#include "kafka/server/authorize.h"

namespace dmq::kafka {

void attach_authorizer(const HandlerContext& ctx, Exchange& ex) {
  if (ctx.authorizer == nullptr) return;
  auto image = ctx.backend.metadata();
  ex.authorizer = ctx.authorizer->get(image, image->acls);
}

AccessCheck::AccessCheck(const Exchange& ex)
    : authorizer_(ex.authorizer), principal_(ex.principal), host_(ex.client_host) {
  static const auto anonymous = std::make_shared<const std::string>("User:ANONYMOUS");
  if (!principal_) principal_ = anonymous;
}

bool AccessCheck::allowed(AclOperation op, ResourceType type, std::string_view name) const {
  if (!authorizer_) return true;
  return authorizer_->authorize(*principal_, host_, op, type, name);
}

bool AccessCheck::may_write_some_topic() const {
  if (!authorizer_) return true;
  for (auto principal : {std::string_view(*principal_), security::kWildcardPrincipal}) {
    for (auto op : {AclOperation::kWrite, AclOperation::kAll}) {
      security::AclBindingFilter filter;
      filter.resource_type = ResourceType::kTopic;
      filter.principal = std::string(principal);
      filter.operation = op;
      filter.permission = security::AclPermissionType::kAllow;
      if (!authorizer_->find(filter).empty()) return true;
    }
  }
  return false;
}

bool AccessCheck::inter_broker() const {
  return cluster(AclOperation::kClusterAction);
}

}  // namespace dmq::kafka
