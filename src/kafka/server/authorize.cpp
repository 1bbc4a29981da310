#include "kafka/server/authorize.h"

#include "net/cluster_http.h"

namespace dmq::kafka {

void attach_authorizer(const HandlerContext& ctx, Exchange& ex) {
  if (ctx.authorizer == nullptr) return;
  auto image = ctx.backend.metadata();
  ex.authorizer = ctx.authorizer->get(image, image->acls);
}

AccessCheck::AccessCheck(const Exchange& ex)
    : authorizer_(ex.authorizer),
      principal_(ex.principal),
      host_(ex.client_host),
      cluster_member_(ex.cluster_member) {
  static const auto anonymous = std::make_shared<const std::string>("User:ANONYMOUS");
  if (!principal_) principal_ = anonymous;
}

bool AccessCheck::allowed(AclOperation op, ResourceType type, std::string_view name) const {
  // A broker that proved it holds the cluster secret acts as a broker (Kafka
  // runs inter-broker traffic as a super user).
  if (!authorizer_ || cluster_member_) return true;
  return authorizer_->authorize(*principal_, host_, op, type, name);
}

bool AccessCheck::may_write_some_topic() const {
  if (!authorizer_ || cluster_member_) return true;
  return authorizer_->authorize_by_resource_type(*principal_, host_, AclOperation::kWrite,
                                                 ResourceType::kTopic);
}

bool AccessCheck::inter_broker() const {
  if (cluster_member_) return true;
  // With a cluster secret and no ACLs, only proven members fetch as
  // replicas: a forged follower fetch could move the high watermark and
  // the ISR. With ACLs, a principal granted CLUSTER_ACTION may too (Kafka's rule).
  if (net::cluster_secret_configured() && !authorizer_) return false;
  return cluster(AclOperation::kClusterAction);
}

}  // namespace dmq::kafka
