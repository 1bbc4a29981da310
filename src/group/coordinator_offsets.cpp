// Offset APIs: OffsetCommit (answered once the records are acknowledged
// with acks=-1), OffsetFetch, OffsetDelete.
#include <set>

#include "common/metrics.h"
#include "group/consumer_protocol.h"
#include "group/coordinator.h"
#include "group/coordinator_internal.h"
#include "kafka/server/authorize.h"

namespace dmq::group {
bool partition_exists(const cluster::MetadataImage& image, std::string_view topic,
                      int32_t partition) {
  auto it = image.topics.find(topic);
  return it != image.topics.end() && partition >= 0 &&
         partition < static_cast<int32_t>(it->second.partitions.size());
}

namespace {

kafka::OffsetCommitResponse commit_response(const kafka::OffsetCommitRequest& req,
                                            kafka::ErrorCode error) {
  kafka::OffsetCommitResponse resp;
  for (const auto& t : req.topics) {
    kafka::OffsetCommitResponse::Topic out;
    out.name = std::string(t.name);
    for (const auto& p : t.partitions) out.partitions.push_back({p.partition_index, error});
    resp.topics.push_back(std::move(out));
  }
  return resp;
}

}  // namespace

void Coordinator::build_commits(const kafka::OffsetCommitRequest& req, int16_t version, TimeMs t,
                                kafka::OffsetCommitResponse& resp, std::vector<Record>& records,
                                std::vector<std::pair<TopicPartition, CommittedOffset>>& commits) {
  auto image = backend_.metadata();
  for (size_t i = 0; i < req.topics.size(); ++i) {
    const auto& topic = req.topics[i];
    for (size_t k = 0; k < topic.partitions.size(); ++k) {
      const auto& p = topic.partitions[k];
      auto& out = resp.topics[i].partitions[k];
      if (out.error_code != kafka::ErrorCode::kNone) continue;  // refused before (ACLs)
      std::string_view metadata = p.committed_metadata.value_or("");
      if (metadata.size() > static_cast<size_t>(options_.offset_metadata_max_bytes)) {
        out.error_code = to_kafka(Error::kOffsetMetadataTooLarge);
        continue;
      }
      if (!partition_exists(*image, topic.name, p.partition_index)) {
        out.error_code = kafka::ErrorCode::kUnknownTopicOrPartition;
        continue;
      }
      CommittedOffset o;
      o.offset = p.committed_offset;
      o.leader_epoch = p.committed_leader_epoch;
      o.metadata = std::string(metadata);
      o.commit_timestamp_ms = t.count();
      // v1 may carry the client's own commit time (-1: the broker's).
      if (version == 1 && p.commit_timestamp >= 0) o.commit_timestamp_ms = p.commit_timestamp;
      // OffsetCommit v2-4 may ask for its own retention (OffsetCommitValue v1).
      if (version <= 4 && req.retention_time_ms > 0) {
        o.expire_timestamp_ms = t.count() + req.retention_time_ms;
      }
      TopicPartition tp{std::string(topic.name), p.partition_index};
      records.push_back({encode_offset_key(req.group_id, tp), encode_offset_value(o)});
      commits.emplace_back(std::move(tp), std::move(o));
    }
  }
}

void Coordinator::handle_offset_commit(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::OffsetCommitRequest>(ex->request.body);
  const int16_t v = ex->request.header.api_version;
  auto fail = [&](Error e) {
    auto resp = commit_response(req, to_kafka(e));
    ex->respond(kafka::make_response(*ex, resp, to_kafka(e)));
  };
  const kafka::AccessCheck access(*ex);
  if (!access.group(kafka::AclOperation::kRead, req.group_id)) {
    auto resp = commit_response(req, kafka::ErrorCode::kGroupAuthorizationFailed);
    ex->respond(kafka::make_response(*ex, resp, kafka::ErrorCode::kGroupAuthorizationFailed));
    return;
  }
  int32_t partition = -1;
  if (Error e = check_group(req.group_id, &partition); e != Error::kNone) return fail(e);
  const std::string group_id(req.group_id);
  std::optional<std::string> instance;
  if (req.group_instance_id) instance = std::string(*req.group_instance_id);
  Entry* entry = find(group_id);
  if (!entry) {
    // A group-less ("simple") commit creates the group; anything else comes
    // from a generation that no longer exists.
    if (req.generation_id >= 0) return fail(Error::kIllegalGeneration);
    entry = &create(group_id, partition);
  }
  const TimeMs t = now();
  // v0 has no member or generation: Kafka 3.x wrote those commits to ZooKeeper
  // without asking the group, so they are stored here whatever its state.
  Error check = v == 0 ? Error::kNone
                       : entry->group->validate_offset_commit(std::string(req.member_id), instance,
                                                              req.generation_id, t);
  if (Error e = check; e != Error::kNone) {
    after_group_op(*entry);
    return fail(e);
  }
  auto resp = std::make_shared<kafka::OffsetCommitResponse>(commit_response(req, {}));
  for (auto& topic : resp->topics) {
    if (access.topic(kafka::AclOperation::kRead, topic.name)) continue;
    for (auto& p : topic.partitions) p.error_code = kafka::ErrorCode::kTopicAuthorizationFailed;
  }
  std::vector<Record> records;
  std::vector<std::pair<TopicPartition, CommittedOffset>> commits;
  build_commits(req, v, t, *resp, records, commits);
  if (records.empty()) {
    ex->respond(kafka::make_response(*ex, *resp));
    return;
  }
  // Answered only once the commit is replicated: an acknowledged commit
  // survives the loss of the coordinator.
  append(partition, records,
         [this, ex, resp, group_id, commits = std::move(commits)](Error e, int64_t) {
           const kafka::ErrorCode code = to_kafka(e);
           if (e == Error::kNone) {
             if (Entry* entry = find(group_id)) {
               for (const auto& [tp, o] : commits) entry->group->apply_commit(tp, o);
             }
             commits_total_->inc(static_cast<double>(commits.size()));
           }
           kafka::ErrorCode first = kafka::ErrorCode::kNone;
           for (auto& topic : resp->topics) {
             for (auto& p : topic.partitions) {
               if (p.error_code == kafka::ErrorCode::kNone) p.error_code = code;
               if (first == kafka::ErrorCode::kNone) first = p.error_code;
             }
           }
           ex->respond(kafka::make_response(*ex, *resp, first));
         });
}

namespace {

using FetchTopics = std::optional<std::vector<kafka::OffsetFetchRequest::Topic>>;

// One group's answer: the asked partitions (or every committed one when
// `topics` is null), -1 where nothing is committed.
std::vector<kafka::OffsetFetchResponse::Topic> fetch_offsets(const Group* group,
                                                             const FetchTopics& topics) {
  std::vector<kafka::OffsetFetchResponse::Topic> out;
  auto fill = [](kafka::OffsetFetchResponse::Partition& p, const CommittedOffset& o) {
    p.committed_offset = o.offset;
    p.committed_leader_epoch = o.leader_epoch;
    p.metadata = o.metadata;
  };
  if (!topics) {
    if (!group) return out;
    for (const auto& [tp, o] : group->offsets()) {
      if (out.empty() || out.back().name != tp.topic) out.push_back({tp.topic, {}});
      kafka::OffsetFetchResponse::Partition p;
      p.partition_index = tp.partition;
      fill(p, o);
      out.back().partitions.push_back(std::move(p));
    }
    return out;
  }
  for (const auto& t : *topics) {
    kafka::OffsetFetchResponse::Topic topic;
    topic.name = std::string(t.name);
    for (int32_t index : t.partition_indexes) {
      kafka::OffsetFetchResponse::Partition p;
      p.partition_index = index;
      p.metadata = std::string();
      if (group) {
        auto it = group->offsets().find(TopicPartition{topic.name, index});
        if (it != group->offsets().end()) fill(p, it->second);
      }
      topic.partitions.push_back(std::move(p));
    }
    out.push_back(std::move(topic));
  }
  return out;
}

// Kafka: topics the principal may not DESCRIBE are left out of an "all
// offsets" answer and answered TOPIC_AUTHORIZATION_FAILED when asked for.
void filter_topics(const kafka::AccessCheck& access, bool asked,
                   std::vector<kafka::OffsetFetchResponse::Topic>& topics) {
  if (!access.enabled()) return;
  std::vector<kafka::OffsetFetchResponse::Topic> kept;
  for (auto& t : topics) {
    if (access.topic(kafka::AclOperation::kDescribe, t.name)) {
      kept.push_back(std::move(t));
    } else if (asked) {
      for (auto& p : t.partitions) {
        kafka::OffsetFetchResponse::Partition refused;
        refused.partition_index = p.partition_index;
        refused.error_code = kafka::ErrorCode::kTopicAuthorizationFailed;
        p = std::move(refused);
      }
      kept.push_back(std::move(t));
    }
  }
  topics = std::move(kept);
}

}  // namespace

void Coordinator::handle_offset_fetch(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::OffsetFetchRequest>(ex->request.body);
  const int16_t v = ex->request.header.api_version;
  kafka::OffsetFetchResponse resp;
  kafka::ErrorCode first = kafka::ErrorCode::kNone;
  const kafka::AccessCheck access(*ex);
  if (v >= 8) {
    for (const auto& g : req.groups) {
      kafka::OffsetFetchResponse::Group out;
      out.group_id = std::string(g.group_id);
      Error e = check_group(g.group_id);
      out.error_code = access.group(kafka::AclOperation::kDescribe, g.group_id)
                           ? to_kafka(e)
                           : kafka::ErrorCode::kGroupAuthorizationFailed;
      if (out.error_code == kafka::ErrorCode::kNone) {
        const Entry* entry = find(g.group_id);
        out.topics = fetch_offsets(entry ? entry->group.get() : nullptr, g.topics);
        filter_topics(access, g.topics.has_value(), out.topics);
        if (req.require_stable) mark_unstable(out.group_id, out.topics);
      }
      if (first == kafka::ErrorCode::kNone) first = out.error_code;
      resp.groups.push_back(std::move(out));
    }
    ex->respond(kafka::make_response(*ex, resp, first));
    return;
  }
  Error e = check_group(req.group_id);
  if (!access.group(kafka::AclOperation::kDescribe, req.group_id)) {
    ex->respond(kafka::make_error(*ex, kafka::ErrorCode::kGroupAuthorizationFailed));
    return;
  }
  if (e != Error::kNone) {
    // v1 has no top-level error: every partition carries it.
    ex->respond(kafka::make_error(*ex, to_kafka(e)));
    return;
  }
  const Entry* entry = find(req.group_id);
  resp.topics = fetch_offsets(entry ? entry->group.get() : nullptr, req.topics);
  filter_topics(access, req.topics.has_value(), resp.topics);
  if (v >= 7 && req.require_stable) mark_unstable(std::string(req.group_id), resp.topics);
  ex->respond(kafka::make_response(*ex, resp));
}

// KIP-447: a client that asks for stable offsets (read_committed consumers)
// must not start from an offset an open transaction is about to replace; it
// gets UNSTABLE_OFFSET_COMMIT and retries until the marker has settled it.
void Coordinator::mark_unstable(const std::string& group_id,
                                std::vector<kafka::OffsetFetchResponse::Topic>& topics) const {
  for (auto& t : topics) {
    for (auto& p : t.partitions) {
      if (p.error_code != kafka::ErrorCode::kNone) continue;
      if (!has_pending_txn_offset(group_id, TopicPartition{t.name, p.partition_index})) continue;
      kafka::OffsetFetchResponse::Partition unstable;
      unstable.partition_index = p.partition_index;
      unstable.error_code = kafka::ErrorCode::kUnstableOffsetCommit;
      p = std::move(unstable);
    }
  }
}

void Coordinator::handle_offset_delete(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::OffsetDeleteRequest>(ex->request.body);
  const kafka::AccessCheck access(*ex);
  if (!access.group(kafka::AclOperation::kDelete, req.group_id)) {
    ex->respond(kafka::make_error(*ex, kafka::ErrorCode::kGroupAuthorizationFailed));
    return;
  }
  int32_t partition = -1;
  Error e = check_group(req.group_id, &partition);
  Entry* entry = e == Error::kNone ? find(req.group_id) : nullptr;
  if (e == Error::kNone && !entry) e = Error::kGroupIdNotFound;
  if (e != Error::kNone) {
    ex->respond(kafka::make_error(*ex, to_kafka(e)));
    return;
  }
  // Offsets of a topic the members consume cannot go (Kafka's
  // GROUP_SUBSCRIBED_TO_TOPIC); only the "consumer" protocol is readable.
  std::set<std::string> subscribed;
  if (entry->group->state() != GroupState::kEmpty && entry->group->protocol_type() == "consumer") {
    for (const auto& m : entry->group->members()) {
      if (auto topics = decode_subscription_topics(m.metadata))
        subscribed.insert(topics->begin(), topics->end());
    }
  }
  auto resp = std::make_shared<kafka::OffsetDeleteResponse>();
  std::vector<Record> records;
  std::vector<TopicPartition> deleting;
  for (const auto& t : req.topics) {
    kafka::OffsetDeleteResponse::Topic out;
    out.name = std::string(t.name);
    for (int32_t index : t.partitions) {
      kafka::ErrorCode code = kafka::ErrorCode::kNone;
      if (!access.topic(kafka::AclOperation::kRead, out.name)) {
        code = kafka::ErrorCode::kTopicAuthorizationFailed;
      } else if (subscribed.count(out.name)) {
        code = to_kafka(Error::kGroupSubscribedToTopic);
      } else {
        TopicPartition tp{out.name, index};
        if (entry->group->offsets().count(tp)) {
          records.push_back({encode_offset_key(req.group_id, tp), std::nullopt});
          deleting.push_back(std::move(tp));
        }
      }
      out.partitions.push_back({index, code});
    }
    resp->topics.push_back(std::move(out));
  }
  if (records.empty()) {
    ex->respond(kafka::make_response(*ex, *resp));
    return;
  }
  std::string group_id(req.group_id);
  append(partition, records, [this, ex, resp, group_id, deleting](Error e, int64_t) {
    if (e != Error::kNone) {
      resp->error_code = to_kafka(e);
    } else if (Entry* entry = find(group_id)) {
      for (const auto& tp : deleting) entry->group->erase_offset(tp);
    }
    ex->respond(kafka::make_response(*ex, *resp, resp->error_code));
  });
}

}  // namespace dmq::group
