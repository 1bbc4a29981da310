// OffsetForLeaderEpoch (KIP-101, KIP-320): where a leader epoch ends on the
// leader. Followers ask it to find the divergence point of their log after a
// leader change; consumers ask it to validate their position.
#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {

void handle_offset_for_leader_epoch(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<OffsetForLeaderEpochRequest>(ex->request.body);
  auto image = ctx.backend.metadata();
  const AccessCheck access(*ex);
  OffsetForLeaderEpochResponse resp;
  ErrorCode first = ErrorCode::kNone;
  for (const auto& t : req.topics) {
    OffsetForLeaderEpochResponse::Topic out_topic;
    out_topic.topic = std::string(t.topic);
    // Consumers need DESCRIBE on the topic; followers are brokers.
    const bool may_describe =
        access.topic(AclOperation::kDescribe, t.topic) || access.inter_broker();
    for (const auto& p : t.partitions) {
      OffsetForLeaderEpochResponse::Partition out;
      out.partition = p.partition;
      EpochEndOffset r;
      r.error = may_describe
                    ? check_leader_epoch(*image, t.topic, p.partition, p.current_leader_epoch)
                    : ErrorCode::kTopicAuthorizationFailed;
      if (r.error == ErrorCode::kNone)
        r = ctx.backend.end_offset_for_epoch(t.topic, PartitionId(p.partition),
                                             LeaderEpoch(p.current_leader_epoch),
                                             LeaderEpoch(p.leader_epoch));
      out.error_code = r.error;
      out.leader_epoch = r.leader_epoch.value;
      out.end_offset = r.end_offset.value;
      if (r.error != ErrorCode::kNone && first == ErrorCode::kNone) first = r.error;
      out_topic.partitions.push_back(out);
    }
    resp.topics.push_back(std::move(out_topic));
  }
  ex->respond(make_response(*ex, resp, first));
}

}  // namespace dmq::kafka
