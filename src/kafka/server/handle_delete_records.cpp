#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {

// DeleteRecords (KIP-107): the leader moves each partition's log start offset
// and answers with the new low watermark. Kafka waits until every replica
// has moved too; here followers follow from their next fetch, and the answer
// does not wait for them (their copy below the new start is unreadable to
// consumers either way: a consumer reads from the leader).
void handle_delete_records(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<DeleteRecordsRequest>(ex->request.body);
  auto image = ctx.backend.metadata();
  const AccessCheck access(*ex);
  DeleteRecordsResponse resp;
  ErrorCode first = ErrorCode::kNone;
  for (const auto& t : req.topics) {
    auto& out_topic = resp.topics.emplace_back();
    out_topic.name = std::string(t.name);
    const bool may_delete = access.topic(AclOperation::kDelete, t.name);
    for (const auto& p : t.partitions) {
      OffsetLookup r;
      r.error = may_delete ? check_leader_epoch(*image, t.name, p.partition_index, -1)
                           : ErrorCode::kTopicAuthorizationFailed;
      if (r.error == ErrorCode::kNone)
        r = ctx.backend.delete_records(t.name, PartitionId(p.partition_index), p.offset);
      out_topic.partitions.push_back({p.partition_index, r.offset.value, r.error});
      if (r.error != ErrorCode::kNone && first == ErrorCode::kNone) first = r.error;
    }
  }
  ex->respond(make_response(*ex, resp, first));
}

}  // namespace dmq::kafka
