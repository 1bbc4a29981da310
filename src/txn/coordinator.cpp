// The transaction APIs: InitProducerId (transactional), AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn, DescribeTransactions, ListTransactions, and the
// KIP-890 verification the partition leaders ask for.
#include "txn/coordinator.h"

#include "common/log.h"
#include "group/internal_topic.h"
#include "group/records.h"
#include "kafka/server/authorize.h"
#include "kafka/server/service.h"

namespace dmq::txn {

Coordinator::Coordinator(asio::io_context& io, const Options& options, broker::Backend& backend,
                         broker::MetadataView& view, group::Coordinator& groups)
    : io_(io),
      options_(options),
      backend_(backend),
      view_(view),
      groups_(groups),
      tick_timer_(io) {}

Coordinator::~Coordinator() {
  stop();
}

void Coordinator::register_handlers(kafka::Service& service) {
  using kafka::ApiKey;
  service.set_transactional_init_handler(
      [this](const kafka::ExchangePtr& ex) { handle_init_producer_id(ex); });
  service.set_handler(ApiKey::kAddPartitionsToTxn,
                      [this](const kafka::ExchangePtr& ex) { handle_add_partitions(ex); });
  service.set_handler(ApiKey::kAddOffsetsToTxn,
                      [this](const kafka::ExchangePtr& ex) { handle_add_offsets(ex); });
  service.set_handler(ApiKey::kEndTxn,
                      [this](const kafka::ExchangePtr& ex) { handle_end_txn(ex); });
  service.set_handler(ApiKey::kWriteTxnMarkers,
                      [this](const kafka::ExchangePtr& ex) { handle_write_markers(ex); });
  service.set_handler(ApiKey::kDescribeTransactions,
                      [this](const kafka::ExchangePtr& ex) { handle_describe(ex); });
  service.set_handler(ApiKey::kListTransactions,
                      [this](const kafka::ExchangePtr& ex) { handle_list(ex); });
}

void Coordinator::start() {
  std::weak_ptr<bool> alive = alive_;
  view_.on_change(
      [this, alive](const broker::MetadataView::Image&, const broker::MetadataView::Image& next) {
        auto a = alive.lock();
        if (!a || stopped_) return;
        handle_metadata_change(*next);
      });
  backend_.set_txn_verifier([this, alive](const broker::TxnVerification& v, Done done) {
    if (alive.expired() || stopped_) return done(kafka::ErrorCode::kNotEnoughReplicas);
    verify(v, std::move(done));
  });
  handle_metadata_change(*view_.current());
  schedule_tick();
}

void Coordinator::stop() {
  if (stopped_) return;
  stopped_ = true;
  alive_.reset();
  tick_timer_.cancel();
  backend_.set_txn_verifier({});
}

int64_t Coordinator::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int32_t Coordinator::state_partitions() const {
  auto image = backend_.metadata();
  auto it = image->topics.find(kTransactionStateTopic);
  return it == image->topics.end() ? 0 : static_cast<int32_t>(it->second.partitions.size());
}

kafka::ErrorCode Coordinator::check_coordinator(std::string_view id, int32_t* partition) const {
  const int32_t n = state_partitions();
  if (n == 0) return kafka::ErrorCode::kCoordinatorNotAvailable;
  const int32_t p = partition_for(id, n);
  auto slot = slots_.find(p);
  if (slot == slots_.end()) return kafka::ErrorCode::kNotCoordinator;
  if (!slot->second.loaded) return kafka::ErrorCode::kCoordinatorLoadInProgress;
  if (partition) *partition = p;
  return kafka::ErrorCode::kNone;
}

Coordinator::Entry* Coordinator::find(std::string_view id) {
  auto it = txns_.find(id);
  return it == txns_.end() ? nullptr : &it->second;
}

namespace {

void reply_init(const kafka::ExchangePtr& ex, kafka::ErrorCode e, int64_t id = -1,
                int16_t epoch = -1) {
  e = fenced_for_version(e, ex->request.header.api_version, 4);
  kafka::InitProducerIdResponse resp;
  resp.error_code = e;
  resp.producer_id = id;
  resp.producer_epoch = epoch;
  ex->respond(kafka::make_response(*ex, resp, e));
}

}  // namespace

void Coordinator::handle_init_producer_id(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::InitProducerIdRequest>(ex->request.body);
  const std::string id(*req.transactional_id);
  const kafka::AccessCheck access(*ex);
  if (!access.allowed(kafka::AclOperation::kWrite, kafka::ResourceType::kTransactionalId, id)) {
    return reply_init(ex, kafka::ErrorCode::kTransactionalIdAuthorizationFailed);
  }
  if (req.transaction_timeout_ms <= 0 ||
      req.transaction_timeout_ms > options_.transaction_max_timeout_ms) {
    return reply_init(ex, kafka::ErrorCode::kInvalidTransactionTimeout);
  }
  int32_t partition = -1;
  if (auto e = check_coordinator(id, &partition); e != kafka::ErrorCode::kNone) {
    return reply_init(ex, e);
  }
  Entry* entry = find(id);
  if (entry && entry->busy) return reply_init(ex, kafka::ErrorCode::kConcurrentTransactions);
  std::optional<TxnMetadata> current;
  if (entry) current = entry->meta;
  Transition t = init_producer(current, req.transaction_timeout_ms, req.producer_id,
                               req.producer_epoch, now_ms());
  if (t.abort_first) {
    // The previous instance left a transaction open: fence it (epoch bump)
    // and abort that transaction; the client retries on
    // CONCURRENT_TRANSACTIONS until the abort is complete.
    abort_by_coordinator(id, true);
    return reply_init(ex, t.error);
  }
  if (t.error != kafka::ErrorCode::kNone) return reply_init(ex, t.error);
  if (!entry) {
    Entry fresh;
    fresh.meta = *t.next;
    fresh.partition = partition;
    entry = &txns_.emplace(id, std::move(fresh)).first->second;
  }
  if (!t.needs_new_producer_id) return finish_init(id, *t.next, false, ex);
  entry->busy = true;
  std::weak_ptr<bool> alive = alive_;
  backend_.init_producer_id(
      [this, alive, id, next = *t.next, ex](const broker::ProducerIdResult& r) mutable {
        if (alive.expired()) return;
        Entry* e = find(id);
        if (!e) return reply_init(ex, kafka::ErrorCode::kNotCoordinator);
        e->busy = false;
        if (r.error != kafka::ErrorCode::kNone) return reply_init(ex, r.error);
        next.producer_id = r.producer_id.value;
        next.producer_epoch = 0;
        finish_init(id, next, true, ex);
      });
}

void Coordinator::finish_init(const std::string& id, TxnMetadata next, bool,
                              const kafka::ExchangePtr& ex) {
  Entry* entry = find(id);
  if (!entry) return reply_init(ex, kafka::ErrorCode::kNotCoordinator);
  persist(id, entry->partition, next, [ex, next](kafka::ErrorCode e) {
    if (e != kafka::ErrorCode::kNone) return reply_init(ex, e);
    reply_init(ex, kafka::ErrorCode::kNone, next.producer_id, next.producer_epoch);
  });
}

void Coordinator::add_partitions(const std::string& id, int64_t producer_id, int16_t epoch,
                                 std::vector<TopicPartition> partitions, Done done) {
  int32_t partition = -1;
  if (auto e = check_coordinator(id, &partition); e != kafka::ErrorCode::kNone) return done(e);
  Entry* entry = find(id);
  if (!entry) return done(kafka::ErrorCode::kInvalidProducerIdMapping);
  if (entry->busy) {
    // The previous transaction's markers (or a write) are in flight: wait
    // for them here rather than answer CONCURRENT_TRANSACTIONS, which
    // clients retry only after their backoff (librdkafka: 100 ms), the cost
    // of every back-to-back transaction otherwise. Bounded: after
    // kParkMs the client gets CONCURRENT_TRANSACTIONS and retries.
    auto answered = std::make_shared<bool>(false);
    auto retry = [this, id, producer_id, epoch, partitions, done, answered]() mutable {
      if (*answered) return;
      *answered = true;
      add_partitions(id, producer_id, epoch, std::move(partitions), std::move(done));
    };
    entry->idle_waiters.push_back(retry);
    group::run_after(io_, std::chrono::milliseconds(kParkMs), alive_, [done, answered] {
      if (*answered) return;
      *answered = true;
      done(kafka::ErrorCode::kConcurrentTransactions);
    });
    return;
  }
  Transition t = add_partitions_to(entry->meta, producer_id, epoch, partitions, now_ms());
  if (t.error != kafka::ErrorCode::kNone || !t.next) return done(t.error);
  persist(id, entry->partition, *t.next, std::move(done));
}

void Coordinator::handle_add_partitions(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::AddPartitionsToTxnRequest>(ex->request.body);
  const int16_t v = ex->request.header.api_version;
  if (v >= 4) {
    // Broker-to-broker verification (KIP-890) is answered in-process here;
    // DMQ brokers do not send it over the wire.
    auto resp = kafka::make_error_response(req, v, kafka::ErrorCode::kUnsupportedVersion);
    ex->respond(kafka::make_response(*ex, resp, kafka::ErrorCode::kUnsupportedVersion));
    return;
  }
  const kafka::AccessCheck access(*ex);
  const std::string id(req.v3_transactional_id);
  auto resp = std::make_shared<kafka::AddPartitionsToTxnResponse>(
      kafka::make_error_response(req, v, kafka::ErrorCode::kNone));
  auto fail_all = [&](kafka::ErrorCode e) {
    *resp = kafka::make_error_response(req, v, e);
    ex->respond(kafka::make_response(*ex, *resp, e));
  };
  if (!access.allowed(kafka::AclOperation::kWrite, kafka::ResourceType::kTransactionalId, id)) {
    return fail_all(kafka::ErrorCode::kTransactionalIdAuthorizationFailed);
  }
  auto image = backend_.metadata();
  std::vector<TopicPartition> parts;
  kafka::ErrorCode refused = kafka::ErrorCode::kNone;
  for (const auto& t : req.v3_topics) {
    auto topic = image->topics.find(t.name);
    for (int32_t p : t.partitions) {
      if (!access.topic(kafka::AclOperation::kWrite, t.name)) {
        refused = kafka::ErrorCode::kTopicAuthorizationFailed;
      } else if (topic == image->topics.end() || p < 0 ||
                 p >= static_cast<int32_t>(topic->second.partitions.size())) {
        refused = kafka::ErrorCode::kUnknownTopicOrPartition;
      }
      parts.emplace_back(std::string(t.name), p);
    }
  }
  // Kafka answers every partition: the bad ones with their error, the
  // others with OPERATION_NOT_ATTEMPTED.
  if (refused != kafka::ErrorCode::kNone) return fail_all(refused);
  add_partitions(id, req.v3_producer_id, req.v3_producer_epoch, std::move(parts),
                 [ex, resp, &req, v](kafka::ErrorCode e) {
                   e = fenced_for_version(e, v, 2);
                   *resp = kafka::make_error_response(req, v, e);
                   ex->respond(kafka::make_response(*ex, *resp, e));
                 });
}

namespace {

// The answer callback of a one-error transaction API (AddOffsetsToTxn,
// EndTxn): the request's own error response carrying `e`.
template <class Request>
std::function<void(kafka::ErrorCode)> error_reply(const kafka::ExchangePtr& ex) {
  return [ex](kafka::ErrorCode e) {
    const auto& req = std::get<Request>(ex->request.body);
    e = fenced_for_version(e, ex->request.header.api_version, 2);
    auto resp = kafka::make_error_response(req, ex->request.header.api_version, e);
    ex->respond(kafka::make_response(*ex, resp, e));
  };
}

bool may_write_txn(const kafka::ExchangePtr& ex, std::string_view id) {
  return kafka::AccessCheck(*ex).allowed(kafka::AclOperation::kWrite,
                                         kafka::ResourceType::kTransactionalId, id);
}

}  // namespace

void Coordinator::handle_add_offsets(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::AddOffsetsToTxnRequest>(ex->request.body);
  auto reply = error_reply<kafka::AddOffsetsToTxnRequest>(ex);
  const std::string id(req.transactional_id);
  if (!may_write_txn(ex, id)) return reply(kafka::ErrorCode::kTransactionalIdAuthorizationFailed);
  if (!kafka::AccessCheck(*ex).group(kafka::AclOperation::kRead, req.group_id)) {
    return reply(kafka::ErrorCode::kGroupAuthorizationFailed);
  }
  // The group's __consumer_offsets partition joins the transaction: its
  // marker is what makes the TxnOffsetCommit offsets visible. Before the
  // topic exists (the group coordinator creates it on the client's next
  // FindCoordinator) it will have the configured partition count, as Kafka
  // assumes too.
  auto image = backend_.metadata();
  auto offsets = image->topics.find(group::kOffsetsTopic);
  const int32_t partitions = offsets != image->topics.end() && !offsets->second.partitions.empty()
                                 ? static_cast<int32_t>(offsets->second.partitions.size())
                                 : options_.offsets_topic_num_partitions;
  const int32_t p = group::partition_for(req.group_id, partitions);
  add_partitions(id, req.producer_id, req.producer_epoch,
                 {TopicPartition(std::string(group::kOffsetsTopic), p)}, reply);
}

void Coordinator::handle_end_txn(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::EndTxnRequest>(ex->request.body);
  auto reply = error_reply<kafka::EndTxnRequest>(ex);
  const std::string id(req.transactional_id);
  if (!may_write_txn(ex, id)) return reply(kafka::ErrorCode::kTransactionalIdAuthorizationFailed);
  int32_t partition = -1;
  if (auto e = check_coordinator(id, &partition); e != kafka::ErrorCode::kNone) return reply(e);
  Entry* entry = find(id);
  if (!entry) return reply(kafka::ErrorCode::kInvalidProducerIdMapping);
  if (entry->busy) return reply(kafka::ErrorCode::kConcurrentTransactions);
  Transition t =
      end_transaction(entry->meta, req.producer_id, req.producer_epoch, req.committed, now_ms());
  if (t.error != kafka::ErrorCode::kNone || !t.next) return reply(t.error);
  // Answered once the decision (PrepareCommit/PrepareAbort) is durable: from
  // then on the outcome survives a coordinator failover, and the markers
  // follow (the client's next AddPartitions waits on CONCURRENT_TRANSACTIONS).
  persist(id, entry->partition, *t.next, [this, id, reply](kafka::ErrorCode e) {
    reply(e);
    if (e == kafka::ErrorCode::kNone) write_markers(id);
  });
}

void Coordinator::verify(const broker::TxnVerification& v, Done done) {
  const int32_t n = state_partitions();
  const int32_t coordinator =
      n > 0 ? leader_of(std::string(kTransactionStateTopic), partition_for(v.transactional_id, n))
            : -1;
  if (coordinator >= 0 && coordinator != backend_.node_id().value && peers_) {
    peers_->verify(coordinator, v, std::move(done));
    return;
  }
  verify_here(v, std::move(done));
}

void Coordinator::verify_here(const broker::TxnVerification& v, Done done) {
  int32_t partition = -1;
  if (auto e = check_coordinator(v.transactional_id, &partition); e != kafka::ErrorCode::kNone) {
    // The coordinator moved or is loading: a retriable refusal for the producer.
    return done(kafka::ErrorCode::kNotEnoughReplicas);
  }
  Entry* entry = find(v.transactional_id);
  if (!entry) return done(kafka::ErrorCode::kInvalidProducerIdMapping);
  done(verify_partition(entry->meta, v.producer_id, v.producer_epoch,
                        TopicPartition(v.partition.topic, v.partition.partition.value)));
}

}  // namespace dmq::txn
