// TxnOffsetCommit (KIP-98, KIP-447): offsets a transactional producer
// commits for a group, kept pending until its transaction's marker reaches
// the group's __consumer_offsets partition: COMMIT writes them (acks=all) and
// makes them the group's committed offsets, ABORT drops them.
#include "common/metrics.h"
#include "group/coordinator.h"
#include "group/coordinator_internal.h"
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
  kafka::TxnOffsetCommitResponse resp;
  auto image = backend_.metadata();
  auto& pending = pending_txn_offsets_[req.producer_id];
  pending.partition = partition;
  for (const auto& topic : req.topics) {
    auto& out = resp.topics.emplace_back();
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
        pending.offsets[group_id][TopicPartition{out.name, p.partition_index}] = std::move(o);
      }
      out.partitions.push_back({p.partition_index, e});
    }
  }
  ex->respond(kafka::make_response(*ex, resp));
}

void Coordinator::complete_txn_offsets(int64_t producer_id, bool commit, int32_t partition,
                                       std::function<void(kafka::ErrorCode)> done) {
  auto it = pending_txn_offsets_.find(producer_id);
  if (it == pending_txn_offsets_.end() || it->second.partition != partition) {
    done(kafka::ErrorCode::kNone);
    return;
  }
  auto offsets = std::move(it->second.offsets);
  pending_txn_offsets_.erase(it);
  if (!commit || offsets.empty()) {
    done(kafka::ErrorCode::kNone);
    return;
  }
  std::vector<Record> records;
  for (const auto& [group_id, tps] : offsets) {
    for (const auto& [tp, o] : tps) {
      records.push_back({encode_offset_key(group_id, tp), encode_offset_value(o)});
    }
  }
  append(partition, records,
         [this, partition, offsets = std::move(offsets), done = std::move(done)](Error e, int64_t) {
           if (e == Error::kNone) {
             for (const auto& [group_id, tps] : offsets) {
               Entry* entry = find(group_id);
               if (!entry) entry = &create(group_id, partition);
               for (const auto& [tp, o] : tps) entry->group->apply_commit(tp, o);
               commits_total_->inc(static_cast<double>(tps.size()));
             }
           }
           done(to_kafka(e));
         });
}

}  // namespace dmq::group
