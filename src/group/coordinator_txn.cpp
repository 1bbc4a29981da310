// TxnOffsetCommit (KIP-98, KIP-447): offsets a transactional producer
// commits for a group. They are written at once, acks=all, as that
// producer's transactional batch in the group's __consumer_offsets partition
// (as Kafka does), so they survive the coordinator; they become the group's
// committed offsets when the transaction's COMMIT marker is written there
// and are dropped on ABORT. A coordinator loading the partition rebuilds the
// ones still waiting for a marker from the log (loader.cpp).
#include "common/metrics.h"
#include "group/coordinator.h"
#include "group/coordinator_internal.h"
#include "group/internal_topic.h"
#include "group/records.h"
#include "kafka/server/authorize.h"

namespace dmq::group {

void Coordinator::handle_txn_offset_commit(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::TxnOffsetCommitRequest>(ex->request.body);
  const int16_t v = ex->request.header.api_version;
  auto answer_all = [&](kafka::ErrorCode e) {
    auto resp = kafka::make_error_response(req, v, e);
    ex->respond(kafka::make_response(*ex, resp, e));
  };
  const kafka::AccessCheck access(*ex);
  if (!access.allowed(kafka::AclOperation::kWrite, kafka::ResourceType::kTransactionalId,
                      req.transactional_id)) {
    return answer_all(kafka::ErrorCode::kTransactionalIdAuthorizationFailed);
  }
  if (!access.group(kafka::AclOperation::kRead, req.group_id)) {
    return answer_all(kafka::ErrorCode::kGroupAuthorizationFailed);
  }
  int32_t partition = -1;
  if (Error e = check_group(req.group_id, &partition); e != Error::kNone) {
    return answer_all(to_kafka(e));
  }
  const std::string group_id(req.group_id);
  const TimeMs t = now();
  if (Entry* entry = find(group_id); entry && v >= 3 && req.generation_id >= 0) {
    // KIP-447: a zombie of an older generation must not commit.
    std::optional<std::string> instance;
    if (req.group_instance_id) instance = std::string(*req.group_instance_id);
    if (Error e = entry->group->validate_offset_commit(std::string(req.member_id), instance,
                                                       req.generation_id, t);
        e != Error::kNone) {
      return answer_all(to_kafka(e));
    }
  }
  auto resp = std::make_shared<kafka::TxnOffsetCommitResponse>();
  auto image = backend_.metadata();
  TxnOffsets accepted;
  for (const auto& topic : req.topics) {
    auto& out = resp->topics.emplace_back();
    out.name = std::string(topic.name);
    const bool readable = access.topic(kafka::AclOperation::kRead, topic.name);
    for (const auto& p : topic.partitions) {
      kafka::ErrorCode e = kafka::ErrorCode::kNone;
      std::string_view metadata = p.committed_metadata.value_or("");
      if (!readable) {
        e = kafka::ErrorCode::kTopicAuthorizationFailed;
      } else if (metadata.size() > static_cast<size_t>(options_.offset_metadata_max_bytes)) {
        e = to_kafka(Error::kOffsetMetadataTooLarge);
      } else if (!partition_exists(*image, topic.name, p.partition_index)) {
        e = kafka::ErrorCode::kUnknownTopicOrPartition;
      } else {
        CommittedOffset o;
        o.offset = p.committed_offset;
        o.leader_epoch = p.committed_leader_epoch;
        o.metadata = std::string(metadata);
        o.commit_timestamp_ms = t.count();
        accepted[group_id][TopicPartition{out.name, p.partition_index}] = std::move(o);
      }
      out.partitions.push_back({p.partition_index, e});
    }
  }
  if (accepted.empty()) return ex->respond(kafka::make_response(*ex, *resp));
  store_txn_offsets(ex, resp, partition, std::move(accepted));
}

void Coordinator::store_txn_offsets(const kafka::ExchangePtr& ex,
                                    std::shared_ptr<kafka::TxnOffsetCommitResponse> resp,
                                    int32_t partition, TxnOffsets accepted) {
  const auto& req = std::get<kafka::TxnOffsetCommitRequest>(ex->request.body);
  std::vector<InternalRecord> records;
  for (const auto& [group_id, tps] : accepted) {
    for (const auto& [tp, o] : tps) {
      records.emplace_back(encode_offset_key(group_id, tp), encode_offset_value(o));
    }
  }
  TxnProducer producer{std::string(req.transactional_id), req.producer_id, req.producer_epoch};
  auto stored = [this, ex, resp, partition, producer_id = req.producer_id,
                 accepted = std::move(accepted)](kafka::ErrorCode e) mutable {
    if (e == kafka::ErrorCode::kNone) {
      auto& pending = pending_txn_offsets_[{producer_id, partition}];
      for (auto& [group_id, tps] : accepted) {
        for (auto& [tp, o] : tps) pending[group_id][tp] = std::move(o);
      }
    } else {
      e = txn_offsets_error(e);
      for (auto& topic : resp->topics) {
        for (auto& p : topic.partitions) {
          if (p.error_code == kafka::ErrorCode::kNone) p.error_code = e;
        }
      }
    }
    ex->respond(kafka::make_response(*ex, *resp));
  };
  append_internal_txn(backend_, kOffsetsTopic, partition, records, now().count(), producer, alive_,
                      std::move(stored));
}

// The transaction's own verdicts reach the client as they are; a failed
// write is the coordinator's, as for OffsetCommit.
kafka::ErrorCode Coordinator::txn_offsets_error(kafka::ErrorCode e) {
  using kafka::ErrorCode;
  switch (e) {
    case ErrorCode::kInvalidProducerEpoch:
    case ErrorCode::kProducerFenced:
    case ErrorCode::kInvalidTxnState:
    case ErrorCode::kInvalidProducerIdMapping:
    case ErrorCode::kTransactionalIdAuthorizationFailed:
      return e;
    default:
      return to_kafka(from_produce_error(e));
  }
}

void Coordinator::complete_txn_offsets(int64_t producer_id, bool commit, int32_t partition,
                                       std::function<void(kafka::ErrorCode)> done) {
  if (auto slot = slots_.find(partition);
      slot != slots_.end() && slot->second.status == SlotStatus::kLoading) {
    // The load may already have read this transaction's offsets but not this
    // marker (it lies past the load's end): complete once the load is in.
    retry_later([this, producer_id, commit, partition,
                 done] { complete_txn_offsets(producer_id, commit, partition, done); },
                std::chrono::milliseconds(50));
    return;
  }
  auto it = pending_txn_offsets_.find({producer_id, partition});
  if (it == pending_txn_offsets_.end()) return done(kafka::ErrorCode::kNone);
  TxnOffsets offsets = std::move(it->second);
  pending_txn_offsets_.erase(it);
  if (commit) apply_txn_offsets(partition, offsets);
  done(kafka::ErrorCode::kNone);
}

bool Coordinator::has_pending_txn_offset(const std::string& group_id,
                                         const TopicPartition& tp) const {
  for (const auto& [key, offsets] : pending_txn_offsets_) {
    auto group = offsets.find(group_id);
    if (group != offsets.end() && group->second.count(tp)) return true;
  }
  return false;
}

void Coordinator::apply_txn_offsets(int32_t partition, const TxnOffsets& offsets) {
  for (const auto& [group_id, tps] : offsets) {
    Entry* entry = find(group_id);
    if (!entry) entry = &create(group_id, partition);
    for (const auto& [tp, o] : tps) entry->group->apply_commit(tp, o);
    commits_total_->inc(static_cast<double>(tps.size()));
  }
}

}  // namespace dmq::group
