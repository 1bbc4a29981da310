// `dmq topic create|list|describe|delete|delete-records`.

#include <algorithm>

#include "client/commands.h"
#include "client/json_out.h"
#include "client/output.h"

namespace dmq::client {
namespace {

using kafka::ErrorCode;

std::string join(const std::vector<int32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out;
}

int create_topic(KafkaClient& client, const Invocation& inv) {
  const TopicArgs& args = inv.topic;
  kafka::CreateTopicsRequest request;
  request.timeout_ms = inv.common.timeout_ms;
  auto& t = request.topics.emplace_back();
  t.name = args.name;
  t.num_partitions = args.partitions;
  t.replication_factor = args.replication_factor;
  for (const auto& [k, v] : args.configs) t.configs.push_back({k, std::string_view(v)});
  auto response =
      client.call<kafka::CreateTopicsResponse>(kAnyBroker, versions::kCreateTopics, request);
  if (response.topics.size() != 1) throw ClientError("CreateTopics: malformed answer");
  const auto& r = response.topics.front();
  bool existed = r.error_code == ErrorCode::kTopicAlreadyExists;
  if (r.error_code != ErrorCode::kNone && !(existed && args.if_not_exists)) {
    throw ClientError("cannot create topic '" + args.name + "': " + kafka_error_name(r.error_code) +
                      (r.error_message ? " (" + *r.error_message + ")" : ""));
  }
  // "Created" means usable: wait until every partition has a leader, so the
  // next command (a produce) does not race the placement.
  const TopicInfo& info = client.wait_for_topic(args.name);
  size_t rf = info.partitions.empty() ? 0 : info.partitions.front().replicas.size();
  if (inv.common.json) {
    JsonOut j;
    j.w().StartObject();
    j.key("name");
    j.string(args.name);
    j.key("partitions");
    j.w().Uint64(info.partitions.size());
    j.key("replication_factor");
    j.w().Uint64(rf);
    j.key("created");
    j.w().Bool(!existed);
    j.w().EndObject();
    print(j.str());
  } else {
    print(std::string(existed ? "topic exists: " : "created topic ") + args.name + " (" +
          std::to_string(info.partitions.size()) + " partitions, replication factor " +
          std::to_string(rf) + ")\n");
  }
  return 0;
}

int list_topics(KafkaClient& client, const Invocation& inv) {
  const ClusterMap& map = client.refresh_metadata({});
  JsonOut j;
  Table table({"NAME", "PARTITIONS", "REPLICATION", "INTERNAL"});
  j.w().StartObject();
  j.key("topics");
  j.w().StartArray();
  for (const auto& [name, t] : map.topics()) {
    size_t rf = t.partitions.empty() ? 0 : t.partitions.front().replicas.size();
    j.w().StartObject();
    j.key("name");
    j.string(name);
    j.key("partitions");
    j.w().Uint64(t.partitions.size());
    j.key("replication_factor");
    j.w().Uint64(rf);
    j.key("internal");
    j.w().Bool(t.internal);
    j.w().EndObject();
    table.add(
        {name, std::to_string(t.partitions.size()), std::to_string(rf), t.internal ? "yes" : "no"});
  }
  j.w().EndArray();
  j.w().EndObject();
  print(inv.common.json ? j.str() : table.render());
  return 0;
}

kafka::DescribeConfigsResponse::Result describe_configs(KafkaClient& client,
                                                        const std::string& name) {
  kafka::DescribeConfigsRequest request;
  request.resources.push_back({2, name, std::nullopt});  // 2: TOPIC
  auto response =
      client.call<kafka::DescribeConfigsResponse>(kAnyBroker, versions::kDescribeConfigs, request);
  if (response.results.size() != 1) throw ClientError("DescribeConfigs: malformed answer");
  auto& r = response.results.front();
  if (r.error_code != ErrorCode::kNone) {
    throw ClientError("describing configs of '" + name + "': " + kafka_error_name(r.error_code));
  }
  return std::move(r);
}

void describe_json(const TopicInfo& t, const kafka::DescribeConfigsResponse::Result& configs) {
  JsonOut j;
  j.w().StartObject();
  j.key("name");
  j.string(t.name);
  j.key("partitions");
  j.w().StartArray();
  for (const auto& p : t.partitions) {
    j.w().StartObject();
    j.key("partition");
    j.w().Int(p.index);
    j.key("leader");
    j.w().Int(p.leader);
    j.key("leader_epoch");
    j.w().Int(p.leader_epoch);
    j.key("replicas");
    j.ints(p.replicas);
    j.key("isr");
    j.ints(p.isr);
    j.w().EndObject();
  }
  j.w().EndArray();
  j.key("configs");
  j.w().StartObject();
  for (const auto& c : configs.configs) {
    j.key(c.name);
    if (c.value) {
      j.string(*c.value);
    } else {
      j.w().Null();
    }
  }
  j.w().EndObject();
  j.w().EndObject();
  print(j.str());
}

int describe_topic(KafkaClient& client, const Invocation& inv) {
  const TopicInfo t = client.wait_for_topic(inv.topic.name);
  auto configs = describe_configs(client, t.name);
  if (inv.common.json) {
    describe_json(t, configs);
    return 0;
  }
  Table table({"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR"});
  for (const auto& p : t.partitions) {
    table.add({std::to_string(p.index), std::to_string(p.leader), std::to_string(p.leader_epoch),
               join(p.replicas), join(p.isr)});
  }
  std::string out = "topic " + t.name + "\n\n" + table.render() + "\n";
  Table config_table({"CONFIG", "VALUE"});
  for (const auto& c : configs.configs) config_table.add({c.name, c.value.value_or("(null)")});
  print(out + config_table.render());
  return 0;
}

void print_low_watermark(bool json, const TopicArgs& args, int64_t low_watermark) {
  if (!json) {
    print("deleted records of " + args.name + " partition " + std::to_string(args.partition) +
          " below offset " + std::to_string(low_watermark) + "\n");
    return;
  }
  JsonOut j;
  j.w().StartObject();
  j.key("topic");
  j.string(args.name);
  j.key("partition");
  j.w().Int(args.partition);
  j.key("low_watermark");
  j.w().Int64(low_watermark);
  j.w().EndObject();
  print(j.str());
}

int delete_topic(KafkaClient& client, const Invocation& inv) {
  kafka::DeleteTopicsRequest request;
  request.timeout_ms = inv.common.timeout_ms;
  request.topic_names.push_back(inv.topic.name);
  auto response =
      client.call<kafka::DeleteTopicsResponse>(kAnyBroker, versions::kDeleteTopics, request);
  if (response.responses.size() != 1) throw ClientError("DeleteTopics: malformed answer");
  ErrorCode error = response.responses.front().error_code;
  if (error == ErrorCode::kUnknownTopicOrPartition) {
    throw ClientError("topic '" + inv.topic.name + "' does not exist");
  }
  if (error != ErrorCode::kNone) {
    throw ClientError("cannot delete topic '" + inv.topic.name + "': " + kafka_error_name(error));
  }
  print_deleted(inv.common.json, "topic", inv.topic.name);
  return 0;
}

// DeleteRecords on the partition's leader, once more after a metadata
// refresh while leadership moves. Prints the new low watermark.
int delete_records(KafkaClient& client, const Invocation& inv) {
  const TopicArgs& args = inv.topic;
  const size_t count = client.wait_for_topic(args.name).partitions.size();
  if (static_cast<size_t>(args.partition) >= count)
    throw usage_error("topic '" + args.name + "' has " + std::to_string(count) + " partitions");
  kafka::DeleteRecordsRequest request;
  request.timeout_ms = inv.common.timeout_ms;
  request.topics.push_back({args.name, {{args.partition, args.offset}}});
  for (int attempt = 1;; ++attempt) {
    std::vector<int32_t> leaderless;
    auto routes = client.cluster().by_leader(args.name, {args.partition}, &leaderless);
    ErrorCode error = ErrorCode::kLeaderNotAvailable;
    int64_t low_watermark = -1;
    for (const auto& [leader, parts] : routes) {
      try {
        auto response =
            client.call<kafka::DeleteRecordsResponse>(leader, versions::kDeleteRecords, request);
        if (response.topics.size() != 1 || response.topics[0].partitions.size() != 1)
          throw ClientError("DeleteRecords: malformed answer");
        error = response.topics[0].partitions[0].error_code;
        low_watermark = response.topics[0].partitions[0].low_watermark;
      } catch (const BrokerUnavailable&) {
      }
    }
    if (error == ErrorCode::kNone) {
      print_low_watermark(inv.common.json, args, low_watermark);
      return 0;
    }
    if (!is_retriable_error(error))
      throw ClientError("cannot delete records of '" + args.name + "' partition " +
                        std::to_string(args.partition) + " below " + std::to_string(args.offset) +
                        ": " + kafka_error_name(error));
    client.backoff(attempt,
                   "the leader of '" + args.name + "' partition " + std::to_string(args.partition));
    client.refresh_metadata({args.name});
  }
}

}  // namespace

int run_topic(const Invocation& inv) {
  KafkaClient client(client_config(inv.common));
  const std::string& action = inv.topic.action;
  if (action == "create") return create_topic(client, inv);
  if (action == "list") return list_topics(client, inv);
  if (action == "describe") return describe_topic(client, inv);
  if (action == "delete-records") return delete_records(client, inv);
  return delete_topic(client, inv);
}

}  // namespace dmq::client
