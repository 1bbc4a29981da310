// InitProducerId (API key 22) for idempotent producers (KIP-98), with the
// KIP-360 epoch bump of an existing producer id (v3+). A transactional id
// goes to the transaction coordinator (src/txn).
#include <limits>

#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

// Kafka's TransactionMetadata.isEpochExhausted: an epoch of INT16_MAX - 1 or
// more is never bumped; the producer gets a new id instead.
constexpr int16_t kLastBumpableEpoch = std::numeric_limits<int16_t>::max() - 2;

void reply(const ExchangePtr& ex, ErrorCode error, int64_t producer_id = -1,
           int16_t producer_epoch = -1) {
  InitProducerIdResponse resp;
  resp.error_code = error;
  resp.producer_id = producer_id;
  resp.producer_epoch = producer_epoch;
  ex->respond(make_response(*ex, resp, error));
}

}  // namespace

void handle_init_producer_id(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<InitProducerIdRequest>(ex->request.body);
  if (req.transactional_id) {
    // Kafka answers an empty transactional id with INVALID_REQUEST.
    if (req.transactional_id->empty()) return reply(ex, ErrorCode::kInvalidRequest);
    if (ctx.transactional_init_producer_id) return ctx.transactional_init_producer_id(ex);
    // No transaction coordinator. TRANSACTIONAL_ID_AUTHORIZATION_FAILED is
    // the error both librdkafka (rd_kafka_idemp_check_error) and the Java
    // client treat as fatal for init_transactions(): the application fails
    // at once with a message naming the transactional id, instead of
    // retrying a retriable error (COORDINATOR_NOT_AVAILABLE, UNSUPPORTED_*)
    // until transaction.timeout.ms.
    return reply(ex, ErrorCode::kTransactionalIdAuthorizationFailed);
  }
  // Kafka 3.x (KIP-679): IDEMPOTENT_WRITE on the cluster, or WRITE on some topic.
  const AccessCheck access(*ex);
  if (!access.cluster(AclOperation::kIdempotentWrite) && !access.may_write_some_topic()) {
    return reply(ex, ErrorCode::kClusterAuthorizationFailed);
  }
  // v3+ (KIP-360): both set or both -1 (KafkaApis.handleInitProducerIdRequest).
  const bool has_id = req.producer_id != -1;
  const bool has_epoch = req.producer_epoch != -1;
  if (has_id != has_epoch || req.producer_id < -1 || req.producer_epoch < -1) {
    return reply(ex, ErrorCode::kInvalidRequest);
  }
  if (has_id) {
    // Kafka's broker ignores these fields when the transactional id is null
    // and always hands out a new id; DMQ bumps the epoch instead, which keeps
    // the id (and the partitions' producer tables) from growing. Bump the
    // epoch of an id the controllers handed out (they allocate
    // upwards from 0, so any id below the image's next block was). Batches
    // of the new epoch restart at sequence 0 and fence the old epoch on
    // every partition (src/broker/producer_state.h). Without a transaction
    // coordinator there is no record of each id's latest epoch: a client
    // sending a stale epoch gets a bump it may share with a newer instance,
    // as it could by producing with that id directly. Clients in practice
    // bump idempotent epochs locally and send -1 here (librdkafka, Java).
    auto image = ctx.backend.metadata();
    if (req.producer_id < image->next_producer_id.value &&
        req.producer_epoch <= kLastBumpableEpoch) {
      return reply(ex, ErrorCode::kNone, req.producer_id,
                   static_cast<int16_t>(req.producer_epoch + 1));
    }
    // Unknown id or exhausted epoch: a fresh id, as Kafka does.
  }
  ctx.backend.init_producer_id([ex](const ProducerIdResult& r) {
    if (r.error != ErrorCode::kNone) return reply(ex, r.error);
    reply(ex, ErrorCode::kNone, r.producer_id.value, r.producer_epoch);
  });
}

}  // namespace dmq::kafka
