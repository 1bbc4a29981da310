#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {

void handle_list_offsets(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<ListOffsetsRequest>(ex->request.body);
  auto image = ctx.backend.metadata();
  const AccessCheck access(*ex);
  ListOffsetsResponse resp;
  ErrorCode first = ErrorCode::kNone;
  for (const auto& t : req.topics) {
    ListOffsetsResponse::Topic out_topic;
    out_topic.name = std::string(t.name);
    const bool may_describe = access.topic(AclOperation::kDescribe, t.name);
    for (const auto& p : t.partitions) {
      ListOffsetsResponse::Partition out;
      out.partition_index = p.partition_index;
      OffsetLookup r;
      r.error = may_describe
                    ? check_leader_epoch(*image, t.name, p.partition_index, p.current_leader_epoch)
                    : ErrorCode::kTopicAuthorizationFailed;
      if (r.error == ErrorCode::kNone)
        r = ctx.backend.list_offset(t.name, PartitionId(p.partition_index), p.timestamp);
      out.error_code = r.error;
      out.offset = r.offset.value;
      out.timestamp = r.timestamp;
      out.leader_epoch = r.leader_epoch.value;
      if (r.error != ErrorCode::kNone && first == ErrorCode::kNone) first = r.error;
      out_topic.partitions.push_back(out);
    }
    resp.topics.push_back(std::move(out_topic));
  }
  ex->respond(make_response(*ex, resp, first));
}

}  // namespace dmq::kafka
