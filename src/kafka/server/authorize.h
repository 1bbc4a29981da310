#pragma once
// Kafka's authorization of requests (KafkaApis / AuthHelper): each handler
// asks for the operation and resource Kafka checks for its API, on the
// principal and client host of the exchange, against the ACLs of the
// broker's current metadata image.
//
// With --authorizer.enabled off (HandlerContext::authorizer null) every
// check passes. Threads: the event loop (handlers).

#include <memory>
#include <string>
#include <string_view>

#include "kafka/server/handlers.h"
#include "security/authorizer_cache.h"

namespace dmq::kafka {

using security::AclOperation;
using security::ResourceType;

// Attaches the authorizer of the broker's current image to the exchange (dispatch does).
void attach_authorizer(const HandlerContext& ctx, Exchange& ex);

class AccessCheck {
 public:
  // Uses the authorizer dispatch() attached, so one request sees one set of ACLs.
  explicit AccessCheck(const Exchange& ex);

  bool enabled() const { return authorizer_ != nullptr; }
  bool allowed(AclOperation op, ResourceType type, std::string_view name) const;
  bool topic(AclOperation op, std::string_view name) const {
    return allowed(op, ResourceType::kTopic, name);
  }
  bool group(AclOperation op, std::string_view name) const {
    return allowed(op, ResourceType::kGroup, name);
  }
  bool cluster(AclOperation op) const {
    return allowed(op, ResourceType::kCluster, security::kClusterResourceName);
  }
  // Broker-to-broker requests (replica fetches with a replica id): Kafka's
  // CLUSTER_ACTION on the cluster. The one place that decides who counts as
  // a broker: connections that proved they hold the cluster secret, then
  // (with ACLs) super users and principals granted CLUSTER_ACTION; with a
  // cluster secret and no ACLs, only the former.
  bool inter_broker() const;
  // Idempotent producers without IDEMPOTENT_WRITE (KIP-679): Kafka's
  // authorizeByResourceType(WRITE, TOPIC), DENY wins
  // (security::Authorizer::authorize_by_resource_type).
  bool may_write_some_topic() const;

  const std::string& principal() const { return *principal_; }

 private:
  std::shared_ptr<const security::Authorizer> authorizer_;  // null: everything is allowed
  std::shared_ptr<const std::string> principal_;
  std::string host_;
  bool cluster_member_ = false;  // proved it holds the cluster secret (DMQ-CLUSTER)
};

}  // namespace dmq::kafka
