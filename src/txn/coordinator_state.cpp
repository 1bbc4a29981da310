// The transaction coordinator's persistence (__transaction_state), markers,
// timeouts, loading, and the operator views (DescribeTransactions,
// ListTransactions, REST).
#include "common/log.h"
#include "group/internal_topic.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/server/authorize.h"
#include "txn/coordinator.h"

namespace dmq::txn {

namespace {

kafka::ErrorCode coordinator_error(kafka::ErrorCode append_error) {
  // A write the partition refused: the client looks the coordinator up again.
  switch (append_error) {
    case kafka::ErrorCode::kNone:
      return kafka::ErrorCode::kNone;
    case kafka::ErrorCode::kNotLeaderOrFollower:
    case kafka::ErrorCode::kUnknownTopicOrPartition:
      return kafka::ErrorCode::kNotCoordinator;
    default:
      return kafka::ErrorCode::kCoordinatorNotAvailable;
  }
}

}  // namespace

void Coordinator::persist(const std::string& id, int32_t partition, TxnMetadata next, Done done) {
  Entry* entry = find(id);
  DMQ_ASSERT(entry != nullptr);
  entry->busy = true;
  const uint64_t load_id = slots_.count(partition) ? slots_[partition].load_id : 0;
  group::append_internal(
      backend_, kTransactionStateTopic, partition, {{encode_key(id), encode_value(next)}}, now_ms(),
      alive_,
      [this, id, partition, load_id, next, done = std::move(done)](kafka::ErrorCode e, int64_t) {
        auto slot = slots_.find(partition);
        Entry* entry = find(id);
        if (!entry || slot == slots_.end() || slot->second.load_id != load_id) {
          return done(kafka::ErrorCode::kNotCoordinator);  // the partition moved meanwhile
        }
        entry->busy = false;
        if (e == kafka::ErrorCode::kNone) entry->meta = next;
        auto waiters = std::move(entry->idle_waiters);
        entry->idle_waiters.clear();
        done(coordinator_error(e));
        // Requests parked while this id was busy go on, unless the answer
        // just made it busy again (they stay parked for the next idle).
        Entry* again = find(id);
        for (auto& w : waiters) {
          if (again && again->busy) {
            again->idle_waiters.push_back(std::move(w));
          } else {
            w();
            again = find(id);
          }
        }
      });
}

// ---- markers ------------------------------------------------------------------------

void Coordinator::write_markers(const std::string& id) {
  Entry* entry = find(id);
  if (!entry) return;
  const TxnMetadata meta = entry->meta;
  if (meta.state != TxnState::kPrepareCommit && meta.state != TxnState::kPrepareAbort) return;
  entry->busy = true;  // no other transition until the markers are written
  if (meta.partitions.empty()) {
    entry->busy = false;
    persist(id, entry->partition, complete(meta, now_ms()), [](kafka::ErrorCode) {});
    return;
  }
  auto left = std::make_shared<size_t>(meta.partitions.size());
  for (const auto& tp : meta.partitions) write_marker(id, tp, meta, left);
}

void Coordinator::write_marker(const std::string& id, const TopicPartition& tp, TxnMetadata meta,
                               std::shared_ptr<size_t> left) {
  Entry* entry = find(id);
  if (!entry || entry->meta != meta) return;  // unloaded or moved on meanwhile
  const int32_t coordinator_epoch =
      slots_.count(entry->partition) ? slots_[entry->partition].leader_epoch : 0;
  MarkerWrite marker{tp.first,
                     tp.second,
                     meta.producer_id,
                     meta.producer_epoch,
                     meta.state == TxnState::kPrepareCommit,
                     coordinator_epoch};
  const int32_t leader = leader_of(tp.first, tp.second);
  auto written = [this, id, tp, meta, left](kafka::ErrorCode e) {
    Entry* entry = find(id);
    if (!entry || entry->meta != meta) return;
    const bool gone = e == kafka::ErrorCode::kUnknownTopicOrPartition;
    if (e != kafka::ErrorCode::kNone && !gone) {
      // Not leader yet (or led elsewhere), not enough replicas: the
      // decision is durable, so keep trying until the marker is in.
      LOG_DEBUG("txn") << "marker for " << tp.first << "-" << tp.second << " of " << id << ": "
                       << kafka::error_name(e) << ", retrying";
      group::run_after(io_, std::chrono::milliseconds(200), alive_,
                       [this, id, tp, meta, left] { write_marker(id, tp, meta, left); });
      return;
    }
    if (--*left > 0) return;
    entry->busy = false;
    persist(id, entry->partition, complete(meta, now_ms()), [id](kafka::ErrorCode e) {
      if (e != kafka::ErrorCode::kNone) {
        LOG_WARN("txn") << "completing " << id << ": " << kafka::error_name(e);
      }
    });
  };
  if (leader == backend_.node_id().value || leader < 0 || !peers_) {
    write_marker_here(marker, std::move(written));
  } else {
    peers_->write_marker(leader, marker, std::move(written));
  }
}

int32_t Coordinator::leader_of(const std::string& topic, int32_t partition) const {
  auto image = backend_.metadata();
  auto t = image->topics.find(topic);
  if (t == image->topics.end() || partition < 0 ||
      static_cast<size_t>(partition) >= t->second.partitions.size()) {
    return -1;
  }
  return t->second.partitions[static_cast<size_t>(partition)].leader.value;
}

void Coordinator::write_marker_here(const MarkerWrite& m, Done done) {
  std::weak_ptr<bool> alive = alive_;
  backend_.write_txn_marker(
      m.topic, broker::PartitionId(m.partition), m.producer_id, m.producer_epoch, m.commit,
      m.coordinator_epoch, [this, alive, m, done = std::move(done)](kafka::ErrorCode e) mutable {
        if (alive.expired()) return;
        if (e != kafka::ErrorCode::kNone || m.topic != group::kOffsetsTopic) return done(e);
        // The group coordinator leads this partition too (it is its own
        // __consumer_offsets partition): the offsets of the transaction.
        groups_.complete_txn_offsets(m.producer_id, m.commit, m.partition, std::move(done));
      });
}

void Coordinator::abort_by_coordinator(const std::string& id, bool bump_epoch) {
  Entry* entry = find(id);
  if (!entry || entry->busy || entry->meta.state != TxnState::kOngoing) return;
  LOG_INFO("txn") << "aborting the transaction of " << id << " (producer "
                  << entry->meta.producer_id << " epoch " << entry->meta.producer_epoch << ")";
  persist(id, entry->partition, begin_abort(entry->meta, bump_epoch, now_ms()),
          [this, id](kafka::ErrorCode e) {
            if (e == kafka::ErrorCode::kNone) write_markers(id);
          });
}

void Coordinator::handle_write_markers(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::WriteTxnMarkersRequest>(ex->request.body);
  const int16_t v = ex->request.header.api_version;
  const kafka::AccessCheck access(*ex);
  if (!access.cluster(kafka::AclOperation::kClusterAction)) {
    auto resp = kafka::make_error_response(req, v, kafka::ErrorCode::kClusterAuthorizationFailed);
    ex->respond(kafka::make_response(*ex, resp, kafka::ErrorCode::kClusterAuthorizationFailed));
    return;
  }
  auto resp = std::make_shared<kafka::WriteTxnMarkersResponse>(
      kafka::make_error_response(req, v, kafka::ErrorCode::kNone));
  auto left = std::make_shared<size_t>(1);
  auto finish = [ex, resp, left] {
    if (--*left == 0) ex->respond(kafka::make_response(*ex, *resp));
  };
  for (size_t m = 0; m < req.markers.size(); ++m) {
    const auto& marker = req.markers[m];
    for (size_t t = 0; t < marker.topics.size(); ++t) {
      for (size_t p = 0; p < marker.topics[t].partitions.size(); ++p) {
        ++*left;
        MarkerWrite one{std::string(marker.topics[t].name),
                        marker.topics[t].partitions[p],
                        marker.producer_id,
                        marker.producer_epoch,
                        marker.commit,
                        marker.coordinator_epoch};
        write_marker_here(one, [resp, m, t, p, finish](kafka::ErrorCode e) {
          resp->markers[m].topics[t].partitions[p].error_code = e;
          finish();
        });
      }
    }
  }
  finish();
}

// ---- timeouts -------------------------------------------------------------------------

void Coordinator::schedule_tick() {
  if (stopped_) return;
  tick_timer_.expires_after(std::chrono::milliseconds(
      options_.transaction_abort_timed_out_transaction_cleanup_interval_ms));
  std::weak_ptr<bool> alive = alive_;
  tick_timer_.async_wait([this, alive](const asio::error_code& ec) {
    if (ec || alive.expired()) return;
    on_tick();
    schedule_tick();
  });
}

void Coordinator::on_tick() {
  const int64_t now = now_ms();
  std::vector<std::string> expired;
  for (const auto& [id, entry] : txns_) {
    if (!entry.busy && timed_out(entry.meta, now)) expired.push_back(id);
  }
  // transaction.timeout.ms: the coordinator aborts on its own and bumps the
  // epoch, so the producer that let it expire is fenced (Kafka does the same).
  for (const auto& id : expired) abort_by_coordinator(id, true);
}

// ---- views ------------------------------------------------------------------------------

std::vector<TxnView> Coordinator::list() const {
  std::vector<TxnView> out;
  for (const auto& [id, entry] : txns_) out.push_back({id, entry.meta, entry.partition});
  return out;
}

namespace {

void describe_one(const std::string& id, const TxnMetadata& m,
                  kafka::DescribeTransactionsResponse::State& s) {
  s.transactional_id = id;
  s.transaction_state = std::string(state_name(m.state));
  s.transaction_timeout_ms = m.timeout_ms;
  s.transaction_start_time_ms = m.start_ms;
  s.producer_id = m.producer_id;
  s.producer_epoch = m.producer_epoch;
  for (const auto& [topic, partition] : m.partitions) {
    if (s.topics.empty() || s.topics.back().topic != topic) s.topics.push_back({topic, {}});
    s.topics.back().partitions.push_back(partition);
  }
}

}  // namespace

void Coordinator::handle_describe(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::DescribeTransactionsRequest>(ex->request.body);
  const kafka::AccessCheck access(*ex);
  kafka::DescribeTransactionsResponse resp;
  for (auto raw : req.transactional_ids) {
    const std::string id(raw);
    auto& s = resp.transaction_states.emplace_back();
    s.transactional_id = id;
    if (!access.allowed(kafka::AclOperation::kDescribe, kafka::ResourceType::kTransactionalId,
                        id)) {
      s.error_code = kafka::ErrorCode::kTransactionalIdAuthorizationFailed;
      continue;
    }
    s.error_code = check_coordinator(id, nullptr);
    if (s.error_code != kafka::ErrorCode::kNone) continue;
    auto it = txns_.find(id);
    if (it == txns_.end()) {
      s.error_code = kafka::ErrorCode::kTransactionalIdNotFound;
      continue;
    }
    describe_one(id, it->second.meta, s);
  }
  ex->respond(kafka::make_response(*ex, resp));
}

void Coordinator::handle_list(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::ListTransactionsRequest>(ex->request.body);
  const kafka::AccessCheck access(*ex);
  kafka::ListTransactionsResponse resp;
  std::set<TxnState> states;
  for (auto name : req.state_filters) {
    if (auto s = state_from_name(name)) {
      states.insert(*s);
    } else {
      resp.unknown_state_filters.emplace_back(name);
    }
  }
  const std::set<int64_t> ids(req.producer_id_filters.begin(), req.producer_id_filters.end());
  for (const auto& [id, entry] : txns_) {
    if (!states.empty() && !states.count(entry.meta.state)) continue;
    if (!ids.empty() && !ids.count(entry.meta.producer_id)) continue;
    if (!access.allowed(kafka::AclOperation::kDescribe, kafka::ResourceType::kTransactionalId,
                        id)) {
      continue;
    }
    resp.transaction_states.push_back(
        {id, entry.meta.producer_id, std::string(state_name(entry.meta.state))});
  }
  ex->respond(kafka::make_response(*ex, resp));
}

}  // namespace dmq::txn
