// Routing of decoded requests to the per-API handlers.
#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"
#include "kafka/server/quota_gate.h"

namespace dmq::kafka {
namespace {

void route(HandlerContext& ctx, const ExchangePtr& ex) {
  const int16_t key = ex->request.header.api_key;
  if (auto it = ctx.external.find(key); it != ctx.external.end()) {
    it->second(ex);
    return;
  }
  switch (ex->request.api_key()) {
    case ApiKey::kApiVersions:
      return handle_api_versions(ctx, ex);
    case ApiKey::kMetadata:
      return handle_metadata(ctx, ex);
    case ApiKey::kProduce:
      return handle_produce(ctx, ex);
    case ApiKey::kFetch:
      return handle_fetch(ctx, ex);
    case ApiKey::kListOffsets:
      return handle_list_offsets(ctx, ex);
    case ApiKey::kCreateTopics:
      return handle_create_topics(ctx, ex);
    case ApiKey::kDeleteTopics:
      return handle_delete_topics(ctx, ex);
    case ApiKey::kDeleteRecords:
      return handle_delete_records(ctx, ex);
    case ApiKey::kCreatePartitions:
      return handle_create_partitions(ctx, ex);
    case ApiKey::kDescribeConfigs:
      return handle_describe_configs(ctx, ex);
    case ApiKey::kAlterConfigs:
      return handle_alter_configs(ctx, ex);
    case ApiKey::kIncrementalAlterConfigs:
      return handle_incremental_alter_configs(ctx, ex);
    case ApiKey::kDescribeCluster:
      return handle_describe_cluster(ctx, ex);
    case ApiKey::kDescribeLogDirs:
      return handle_describe_log_dirs(ctx, ex);
    case ApiKey::kDescribeProducers:
      return handle_describe_producers(ctx, ex);
    case ApiKey::kInitProducerId:
      return handle_init_producer_id(ctx, ex);
    case ApiKey::kOffsetForLeaderEpoch:
      return handle_offset_for_leader_epoch(ctx, ex);
    case ApiKey::kDescribeUserScramCredentials:
      return handle_describe_user_scram_credentials(ctx, ex);
    case ApiKey::kAlterUserScramCredentials:
      return handle_alter_user_scram_credentials(ctx, ex);
    case ApiKey::kDescribeAcls:
      return handle_describe_acls(ctx, ex);
    case ApiKey::kCreateAcls:
      return handle_create_acls(ctx, ex);
    case ApiKey::kDeleteAcls:
      return handle_delete_acls(ctx, ex);
    case ApiKey::kAlterPartitionReassignments:
      return handle_alter_partition_reassignments(ctx, ex);
    case ApiKey::kListPartitionReassignments:
      return handle_list_partition_reassignments(ctx, ex);
    case ApiKey::kElectLeaders:
      return handle_elect_leaders(ctx, ex);
    case ApiKey::kDescribeClientQuotas:
      return handle_describe_client_quotas(ctx, ex);
    case ApiKey::kAlterClientQuotas:
      return handle_alter_client_quotas(ctx, ex);
    default:
      // Group APIs belong to the group coordinator, which
      // registers itself in ctx.external. Until then clients get a retriable
      // "coordinator not available" in the request's own error shape.
      ex->respond(make_error(*ex, ErrorCode::kCoordinatorNotAvailable));
      return;
  }
}

}  // namespace

void dispatch(HandlerContext& ctx, const ExchangePtr& ex) {
  attach_authorizer(ctx, *ex);
  quota::Resolved request_quota;
  if (ctx.quotas) {
    request_quota = ctx.quotas->resolve(*ctx.backend.metadata(), quota::Kind::kRequest, *ex);
    // KIP-219: what earlier requests owe is this answer's throttle; the time
    // spent on this one is recorded after it, for the next to pay.
    ctx.quotas->owed(quota::Kind::kRequest, request_quota, *ex);
  }
  if (!request_quota.limit) return route(ctx, ex);
  const auto start = std::chrono::steady_clock::now();
  route(ctx, ex);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - start);
  ctx.quotas->record_after(quota::Kind::kRequest, request_quota,
                           quota::nanos_to_percent(nanos.count()));
}

}  // namespace dmq::kafka
