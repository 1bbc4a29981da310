#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {

// DescribeProducers (KIP-664): the partition leader's producer state, so an
// operator can find the producer holding a transaction open (and the last
// stable offset back). READ on the topic, as Kafka asks.
void handle_describe_producers(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<DescribeProducersRequest>(ex->request.body);
  const AccessCheck access(*ex);
  DescribeProducersResponse resp;
  ErrorCode first = ErrorCode::kNone;
  for (const auto& t : req.topics) {
    auto& out_topic = resp.topics.emplace_back();
    out_topic.name = std::string(t.name);
    const bool may_read = access.topic(AclOperation::kRead, t.name);
    for (int32_t index : t.partition_indexes) {
      auto& out = out_topic.partitions.emplace_back();
      out.partition_index = index;
      ProducersLookup found{ErrorCode::kTopicAuthorizationFailed, {}};
      if (may_read) found = ctx.backend.active_producers(t.name, PartitionId(index));
      out.error_code = found.error;
      for (const ActiveProducer& p : found.producers) {
        out.active_producers.push_back({p.producer_id, p.producer_epoch, p.last_sequence,
                                        p.last_timestamp, p.coordinator_epoch,
                                        p.current_txn_start_offset});
      }
      if (found.error != ErrorCode::kNone && first == ErrorCode::kNone) first = found.error;
    }
  }
  ex->respond(make_response(*ex, resp, first));
}

}  // namespace dmq::kafka
