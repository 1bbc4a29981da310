#include <algorithm>

#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;
// ConfigSource values (DescribeConfigsResponse.json).
constexpr int8_t kSourceTopic = 1;
constexpr int8_t kSourceStaticBroker = 4;
constexpr int8_t kSourceDefault = 5;

bool wanted(const DescribeConfigsRequest::Resource& r, const std::string& name) {
  if (!r.configuration_keys) return true;
  return std::find(r.configuration_keys->begin(), r.configuration_keys->end(), name) !=
         r.configuration_keys->end();
}

DescribeConfigsResponse::Config config(std::string name, std::string value, int8_t source,
                                       bool read_only) {
  DescribeConfigsResponse::Config c;
  c.name = std::move(name);
  c.value = std::move(value);
  c.config_source = source;
  c.is_default = source == kSourceDefault;  // what v0 carries instead of the source
  c.read_only = read_only;
  return c;
}

void describe_topic(HandlerContext& ctx, const cluster::MetadataImage& image,
                    const DescribeConfigsRequest::Resource& r,
                    DescribeConfigsResponse::Result& out) {
  auto it = image.topics.find(r.resource_name);
  if (it == image.topics.end()) {
    out.error_code = ErrorCode::kUnknownTopicOrPartition;
    out.error_message = "unknown topic";
    return;
  }
  const auto& topic = it->second;
  std::map<std::string, std::pair<std::string, int8_t>> all;
  for (auto& [k, v] : topic_config_defaults(ctx.options)) all[k] = {v, kSourceDefault};
  for (auto& [k, v] : topic.configs) all[k] = {v, kSourceTopic};
  for (auto& [k, vs] : all)
    if (wanted(r, k)) out.configs.push_back(config(k, vs.first, vs.second, false));
}

void describe_broker(HandlerContext& ctx, const DescribeConfigsRequest::Resource& r,
                     DescribeConfigsResponse::Result& out) {
  const Options& o = ctx.options;
  if (!r.resource_name.empty() && r.resource_name != std::to_string(ctx.backend.node_id().value)) {
    // Kafka routes a broker resource to that broker; each broker knows only its own.
    out.error_code = ErrorCode::kInvalidRequest;
    out.error_message = "this is broker " + std::to_string(ctx.backend.node_id().value);
    return;
  }
  const std::vector<std::pair<std::string, std::string>> configs = {
      {"auto.create.topics.enable", o.auto_create_topics_enable ? "true" : "false"},
      {"broker.id", std::to_string(o.node_id)},
      {"default.replication.factor", std::to_string(o.default_replication_factor)},
      {"log.flush.on.ack", o.log_flush_on_ack ? "true" : "false"},
      {"log.retention.bytes", std::to_string(o.retention_bytes)},
      {"log.retention.ms", std::to_string(o.retention_ms)},
      {"log.roll.ms", std::to_string(o.segment_ms)},
      {"log.segment.bytes", std::to_string(o.segment_bytes)},
      {"message.max.bytes", std::to_string(o.message_max_bytes)},
      {"min.insync.replicas", std::to_string(o.min_insync_replicas)},
      {"node.id", std::to_string(o.node_id)},
      {"num.partitions", std::to_string(o.num_partitions)},
      {"replica.lag.time.max.ms", std::to_string(o.replica_lag_time_max_ms)},
      {"socket.request.max.bytes", std::to_string(o.socket_request_max_bytes)},
      {"queued.max.request.bytes", std::to_string(o.queued_max_request_bytes)},
      {"max.connections", std::to_string(o.max_connections)},
      {"max.connections.per.ip", std::to_string(o.max_connections_per_ip)},
  };
  for (auto& [k, v] : configs)
    if (wanted(r, k)) out.configs.push_back(config(k, v, kSourceStaticBroker, true));
}

}  // namespace

void handle_describe_configs(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<DescribeConfigsRequest>(ex->request.body);
  auto image = ctx.backend.metadata();
  DescribeConfigsResponse resp;
  ErrorCode first = ErrorCode::kNone;
  const AccessCheck access(*ex);
  for (const auto& r : req.resources) {
    DescribeConfigsResponse::Result out;
    out.resource_type = r.resource_type;
    out.resource_name = std::string(r.resource_name);
    if (r.resource_type == kResourceTopic &&
        !access.topic(AclOperation::kDescribeConfigs, r.resource_name)) {
      out.error_code = ErrorCode::kTopicAuthorizationFailed;
    } else if (r.resource_type == kResourceBroker &&
               !access.cluster(AclOperation::kDescribeConfigs)) {
      out.error_code = ErrorCode::kClusterAuthorizationFailed;
    } else if (r.resource_type == kResourceTopic) {
      describe_topic(ctx, *image, r, out);
    } else if (r.resource_type == kResourceBroker) {
      describe_broker(ctx, r, out);
    } else {
      out.error_code = ErrorCode::kInvalidRequest;
      out.error_message = "only topic (2) and broker (4) resources are described";
    }
    if (out.error_code != ErrorCode::kNone && first == ErrorCode::kNone) first = out.error_code;
    resp.results.push_back(std::move(out));
  }
  ex->respond(make_response(*ex, resp, first));
}

}  // namespace dmq::kafka
