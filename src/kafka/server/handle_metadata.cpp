#include "common/log.h"
#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

bool broker_online(const cluster::MetadataImage& image, cluster::BrokerId id) {
  auto it = image.brokers.find(id);
  return it != image.brokers.end() && !it->second.fenced;
}

MetadataResponse::Topic describe_topic(const cluster::MetadataImage& image,
                                       const cluster::TopicState& topic) {
  MetadataResponse::Topic out;
  out.name = topic.name;
  out.topic_id = topic_uuid(topic.topic_id);
  out.is_internal = topic.name.rfind("__", 0) == 0;  // __consumer_offsets and friends
  for (const auto& p : topic.partitions) {
    MetadataResponse::Partition mp;
    mp.partition_index = p.id.value;
    mp.leader_id = p.leader.value;
    mp.leader_epoch = p.leader_epoch.value;
    if (p.leader == cluster::kNoLeader) mp.error_code = ErrorCode::kLeaderNotAvailable;
    for (auto r : p.replicas) {
      mp.replica_nodes.push_back(r.value);
      if (!broker_online(image, r)) mp.offline_replicas.push_back(r.value);
    }
    for (auto r : p.isr) mp.isr_nodes.push_back(r.value);
    out.partitions.push_back(std::move(mp));
  }
  return out;
}

// Kafka answers a topic it just started creating with LEADER_NOT_AVAILABLE;
// the client retries Metadata and finds it once the controller has placed it.
void maybe_auto_create(HandlerContext& ctx, const std::string& name) {
  if (!ctx.auto_creating.insert(name).second) return;
  broker::TopicSpec spec;
  spec.name = name;
  spec.partitions = ctx.options.num_partitions;
  spec.replication_factor = ctx.options.default_replication_factor;
  HandlerContext* c = &ctx;
  ctx.controller.create_topic(spec, false, [c, name](const broker::AdminResult& r) {
    c->auto_creating.erase(name);
    if (!r.ok() && r.code != "topic_exists") {
      LOG_WARN("kafka") << "auto-creating topic " << name << " failed: " << r.code << " "
                        << r.message;
    }
  });
}

}  // namespace

void handle_metadata(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<MetadataRequest>(ex->request.body);
  const int16_t version = ex->request.header.api_version;
  auto image = ctx.backend.metadata();
  MetadataResponse resp;
  for (const auto& b :
       live_brokers(ctx, *image, &advertised_address(ctx.options, *ex), listener_name_of(*ex))) {
    MetadataResponse::Broker out;
    out.node_id = b.id;
    out.host = b.host;
    out.port = b.port;
    if (!b.rack.empty()) out.rack = b.rack;
    resp.brokers.push_back(std::move(out));
  }
  resp.cluster_id = ctx.cluster_id;
  // Admin requests work on any broker, so the answering broker names itself
  // (kafka-python's admin client sends CreateTopics to the controller_id).
  resp.controller_id = ctx.backend.node_id().value;

  const AccessCheck access(*ex);
  const bool all = !req.topics || (version == 0 && req.topics->empty());
  if (all) {
    // Kafka lists only the topics the principal may DESCRIBE.
    for (const auto& [name, topic] : image->topics)
      if (access.topic(AclOperation::kDescribe, name))
        resp.topics.push_back(describe_topic(*image, topic));
    ex->respond(make_response(*ex, resp));
    return;
  }
  const bool may_create =
      ctx.options.auto_create_topics_enable && (version < 4 || req.allow_auto_topic_creation);
  for (const auto& t : *req.topics) {
    if (!t.name) {
      // Lookup by topic id (v10+).
      if (const auto* topic = find_topic_by_id(*image, t.topic_id)) {
        resp.topics.push_back(describe_topic(*image, *topic));
        continue;
      }
      MetadataResponse::Topic out;
      out.topic_id = t.topic_id;
      out.error_code = ErrorCode::kUnknownTopicId;
      resp.topics.push_back(std::move(out));
      continue;
    }
    std::string name(*t.name);
    auto it = image->topics.find(name);
    MetadataResponse::Topic out;
    out.name = name;
    if (!access.topic(AclOperation::kDescribe, name)) {
      out.error_code = ErrorCode::kTopicAuthorizationFailed;
    } else if (it != image->topics.end()) {
      out = describe_topic(*image, it->second);
    } else if (!valid_topic_name(name)) {
      out.error_code = ErrorCode::kInvalidTopicException;
    } else if (may_create && !access.cluster(AclOperation::kCreate) &&
               !access.topic(AclOperation::kCreate, name)) {
      out.error_code = ErrorCode::kTopicAuthorizationFailed;
    } else if (may_create) {
      maybe_auto_create(ctx, name);
      out.error_code = ErrorCode::kLeaderNotAvailable;
    } else {
      out.error_code = ErrorCode::kUnknownTopicOrPartition;
    }
    resp.topics.push_back(std::move(out));
  }
  ex->respond(make_response(*ex, resp));
}

}  // namespace dmq::kafka
