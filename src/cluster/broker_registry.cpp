#include "cluster/broker_registry.h"

namespace dmq::cluster {
namespace {

std::string name(BrokerId id) {
  return "broker " + std::to_string(id.value);
}

}  // namespace

void BrokerRegistry::reset_grace_period(const MetadataState& state, int64_t now_ms) {
  sessions_.clear();
  for (const auto& [id, b] : state.image().brokers) sessions_[id].last_contact_ms = now_ms;
}

bool BrokerRegistry::in_flight(const std::optional<int64_t>& proposed_ms, int64_t now_ms) const {
  return proposed_ms && now_ms - *proposed_ms < options_.proposal_retry_ms;
}

bool BrokerRegistry::session_alive(BrokerId broker, int64_t now_ms) const {
  auto it = sessions_.find(broker);
  // Unknown to this leader: treat as alive; reset_grace_period covers every
  // broker registered before this leader, so this is only a safety net.
  if (it == sessions_.end()) return true;
  return now_ms - it->second.last_contact_ms < options_.session_timeout_ms;
}

Status BrokerRegistry::check_epoch(const MetadataState& state, BrokerId broker,
                                   BrokerEpoch epoch) const {
  const BrokerRegistration* b = state.find_broker(broker);
  if (!b) return Error{ErrorCode::kUnknownBroker, name(broker) + " is not registered"};
  if (b->epoch != epoch) {
    return Error{ErrorCode::kStaleBrokerEpoch,
                 name(broker) + " epoch " + std::to_string(epoch.value) +
                     " is stale; the current epoch is " + std::to_string(b->epoch.value) +
                     ": register again"};
  }
  return {};
}

Result<RecordBatch> BrokerRegistry::handle_register(const MetadataState& state,
                                                    const BrokerRegistrationRequest& r,
                                                    int64_t now_ms) {
  if (r.broker_id.value < 0) return Error{ErrorCode::kInvalidRequest, "negative broker id"};
  if (r.incarnation_id.empty()) return Error{ErrorCode::kInvalidRequest, "empty incarnation id"};
  if (r.kafka_port == 0 || r.http_port == 0) {
    return Error{ErrorCode::kInvalidRequest, "kafka and http ports must be set"};
  }
  RecordBatch batch;
  if (const BrokerRegistration* old = state.find_broker(r.broker_id); old && !old->fenced) {
    if (old->incarnation_id != r.incarnation_id && session_alive(r.broker_id, now_ms)) {
      return Error{ErrorCode::kDuplicateBrokerId,
                   name(r.broker_id) + " is registered by another live process (incarnation " +
                       old->incarnation_id + ")"};
    }
    // The old epoch is fenced and its leaderships moved in the same step.
    batch = fence_brokers_batch(state, {r.broker_id}, options_.election);
  }
  batch.push_back(RegisterBrokerRecord{r.broker_id, r.incarnation_id, r.kafka_host, r.kafka_port,
                                       r.http_host, r.http_port, r.rack, r.listeners});
  Session& s = sessions_[r.broker_id];
  s = Session{};
  s.last_contact_ms = now_ms;
  return batch;
}

Result<HeartbeatDecision> BrokerRegistry::handle_heartbeat(const MetadataState& state,
                                                           BrokerId broker, BrokerEpoch epoch,
                                                           LogIndex metadata_applied_index,
                                                           int64_t now_ms) {
  if (Status s = check_epoch(state, broker, epoch); !s) return s.error();
  Session& s = sessions_[broker];
  s.last_contact_ms = now_ms;
  HeartbeatDecision decision;
  decision.fenced = state.find_broker(broker)->fenced;
  if (!decision.fenced) {
    s.unfence_proposed_ms.reset();
    return decision;
  }
  if (s.shutting_down || in_flight(s.unfence_proposed_ms, now_ms)) return decision;
  if (static_cast<int64_t>(metadata_applied_index.value) < epoch.value) return decision;
  decision.propose = unfence_broker_batch(state, broker, epoch, options_.election);
  if (!decision.propose.empty()) s.unfence_proposed_ms = now_ms;
  return decision;
}

RecordBatch BrokerRegistry::expired_brokers(const MetadataState& state, int64_t now_ms,
                                            const std::set<Registration>& gone) {
  std::set<BrokerId> expired;
  for (const auto& [id, b] : state.image().brokers) {
    if (b.fenced) continue;
    auto it = sessions_.find(id);
    if (it != sessions_.end() && in_flight(it->second.fence_proposed_ms, now_ms)) continue;
    if (gone.count({id, b.epoch})) {
      expired.insert(id);
    } else if (it == sessions_.end()) {
      sessions_[id].last_contact_ms = now_ms;  // first sight: a full session
    } else if (!session_alive(id, now_ms)) {
      expired.insert(id);
    }
  }
  if (expired.empty()) return {};
  for (BrokerId id : expired) sessions_[id].fence_proposed_ms = now_ms;
  return fence_brokers_batch(state, expired, options_.election);
}

Result<RecordBatch> BrokerRegistry::controlled_shutdown(const MetadataState& state, BrokerId broker,
                                                        BrokerEpoch epoch, int64_t now_ms) {
  if (Status s = check_epoch(state, broker, epoch); !s) return s.error();
  Session& s = sessions_[broker];
  s.last_contact_ms = now_ms;
  s.shutting_down = true;
  // Not short-circuited while a fence is in flight: an empty answer means
  // "already fenced, you may exit". A duplicate is rejected at apply.
  RecordBatch batch = fence_brokers_batch(state, {broker}, options_.election);
  if (!batch.empty()) s.fence_proposed_ms = now_ms;
  return batch;
}

std::optional<int64_t> BrokerRegistry::last_contact_ms(BrokerId broker) const {
  auto it = sessions_.find(broker);
  if (it == sessions_.end()) return std::nullopt;
  return it->second.last_contact_ms;
}

}  // namespace dmq::cluster
