// `dmq group list|describe|reset-offsets|delete`.

#include <set>

#include "client/commands.h"
#include "client/json_out.h"
#include "client/output.h"
#include "kafka/protocol/consumer_assignor.h"

namespace dmq::client {
namespace {

using kafka::ErrorCode;

// A member's assigned partitions, when the group speaks the "consumer"
// protocol (other protocol types carry bytes of their own: none shown).
kafka::PartitionsByTopic assignment_of(const kafka::DescribeGroupsResponse::Group& g,
                                       const kafka::DescribeGroupsResponse::Member& m) {
  if (g.protocol_type != "consumer") return {};
  return kafka::decode_consumer_assignment(m.member_assignment)
      .value_or(kafka::PartitionsByTopic{});
}

// "orders:0,1 audit:3", or "-" with nothing assigned.
std::string assignment_text(const kafka::PartitionsByTopic& assigned) {
  std::string out;
  for (const auto& [topic, partitions] : assigned) {
    if (partitions.empty()) continue;
    if (!out.empty()) out += ' ';
    out += topic + ':';
    for (size_t i = 0; i < partitions.size(); ++i)
      out += (i ? "," : "") + std::to_string(partitions[i]);
  }
  return out.empty() ? "-" : out;
}

void assignment_json(JsonOut& j, const kafka::PartitionsByTopic& assigned) {
  j.key("assignment");
  j.w().StartArray();
  for (const auto& [topic, partitions] : assigned) {
    j.w().StartObject();
    j.key("topic");
    j.string(topic);
    j.key("partitions");
    j.w().StartArray();
    for (int32_t p : partitions) j.w().Int(p);
    j.w().EndArray();
    j.w().EndObject();
  }
  j.w().EndArray();
}

int list_groups(KafkaClient& client, const Invocation& inv) {
  // Each broker lists only the groups it coordinates (Kafka's ListGroups).
  const ClusterMap& map = client.refresh_metadata({});
  std::map<std::string, kafka::ListGroupsResponse::Group> groups;
  for (const auto& [id, broker] : map.brokers()) {
    auto r = client.call<kafka::ListGroupsResponse>(id, 4, kafka::ListGroupsRequest{});
    if (r.error_code != ErrorCode::kNone && !is_retriable_error(r.error_code)) {
      throw ClientError("ListGroups on broker " + std::to_string(id) + ": " +
                        kafka_error_name(r.error_code));
    }
    for (auto& g : r.groups) groups[g.group_id] = std::move(g);
  }
  JsonOut j;
  Table table({"GROUP", "STATE", "PROTOCOL"});
  j.w().StartObject();
  j.key("groups");
  j.w().StartArray();
  for (const auto& [id, g] : groups) {
    j.w().StartObject();
    j.key("group");
    j.string(id);
    j.key("state");
    j.string(g.group_state);
    j.key("protocol_type");
    j.string(g.protocol_type);
    j.w().EndObject();
    table.add({id, g.group_state, g.protocol_type});
  }
  j.w().EndArray();
  j.w().EndObject();
  print(inv.common.json ? j.str() : table.render());
  return 0;
}

kafka::DescribeGroupsResponse::Group describe(KafkaClient& client, const std::string& group) {
  kafka::DescribeGroupsRequest request;
  request.groups.push_back(group);
  auto r = client.call_coordinator<kafka::DescribeGroupsResponse>(
      group, versions::kDescribeGroups, request, [](const kafka::DescribeGroupsResponse& r) {
        return r.groups.size() == 1 ? r.groups[0].error_code : ErrorCode::kNone;
      });
  if (r.groups.size() != 1) throw ClientError("DescribeGroups: malformed answer");
  auto& g = r.groups.front();
  if (g.error_code != ErrorCode::kNone) {
    throw ClientError("describing group '" + group + "': " + kafka_error_name(g.error_code));
  }
  return std::move(g);
}

// Every committed offset of `group`: topic -> partition -> offset.
std::map<std::string, std::map<int32_t, int64_t>> committed(KafkaClient& client,
                                                            const std::string& group) {
  kafka::OffsetFetchRequest request;
  request.group_id = group;  // topics null: everything committed (v2+)
  auto r = client.call_coordinator<kafka::OffsetFetchResponse>(
      group, versions::kOffsetFetch, request, [](const auto& r) { return r.error_code; });
  if (r.error_code != ErrorCode::kNone) {
    throw ClientError("fetching offsets of '" + group + "': " + kafka_error_name(r.error_code));
  }
  std::map<std::string, std::map<int32_t, int64_t>> out;
  for (const auto& t : r.topics) {
    for (const auto& p : t.partitions) {
      if (p.committed_offset >= 0) out[t.name][p.partition_index] = p.committed_offset;
    }
  }
  return out;
}

struct LagRow {
  std::string topic;
  int32_t partition = 0;
  int64_t committed = -1;
  int64_t end = -1;
};

std::vector<LagRow> lag_rows(KafkaClient& client, const std::string& group) {
  std::vector<LagRow> rows;
  for (const auto& [topic, offsets] : committed(client, group)) {
    std::vector<int32_t> partitions;
    for (const auto& [p, o] : offsets) partitions.push_back(p);
    client.refresh_metadata({topic});
    std::map<int32_t, int64_t> ends;
    if (client.cluster().topic(topic) != nullptr)
      ends = list_offsets(client, topic, partitions, -1);
    for (const auto& [p, o] : offsets) {
      rows.push_back({topic, p, o, ends.count(p) ? ends[p] : -1});
    }
  }
  return rows;
}

void describe_json(const kafka::DescribeGroupsResponse::Group& g, const std::vector<LagRow>& rows) {
  JsonOut j;
  j.w().StartObject();
  j.key("group");
  j.string(g.group_id);
  j.key("state");
  j.string(g.group_state);
  j.key("protocol_type");
  j.string(g.protocol_type);
  j.key("members");
  j.w().StartArray();
  for (const auto& m : g.members) {
    j.w().StartObject();
    j.key("member_id");
    j.string(m.member_id);
    j.key("client_id");
    j.string(m.client_id);
    j.key("client_host");
    j.string(m.client_host);
    assignment_json(j, assignment_of(g, m));
    j.w().EndObject();
  }
  j.w().EndArray();
  j.key("offsets");
  j.w().StartArray();
  for (const auto& r : rows) {
    j.w().StartObject();
    j.key("topic");
    j.string(r.topic);
    j.key("partition");
    j.w().Int(r.partition);
    j.key("committed_offset");
    j.w().Int64(r.committed);
    j.key("log_end_offset");
    j.w().Int64(r.end);
    j.key("lag");
    j.w().Int64(r.end >= 0 ? std::max<int64_t>(0, r.end - r.committed) : -1);
    j.w().EndObject();
  }
  j.w().EndArray();
  j.w().EndObject();
  print(j.str());
}

int describe_group(KafkaClient& client, const Invocation& inv) {
  auto g = describe(client, inv.group.group);
  auto rows = lag_rows(client, inv.group.group);
  if (g.group_state == "Dead" && rows.empty()) {
    throw ClientError("group '" + inv.group.group + "' does not exist");
  }
  if (inv.common.json) {
    describe_json(g, rows);
    return 0;
  }
  std::string out = "group " + g.group_id + " (" + g.group_state + ", " +
                    std::to_string(g.members.size()) + " members)\n\n";
  Table table({"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"});
  for (const auto& r : rows) {
    table.add({r.topic, std::to_string(r.partition), std::to_string(r.committed),
               std::to_string(r.end),
               r.end >= 0 ? std::to_string(std::max<int64_t>(0, r.end - r.committed)) : "-"});
  }
  out += table.render();
  if (!g.members.empty()) {
    Table members({"MEMBER", "CLIENT-ID", "HOST", "ASSIGNMENT"});
    for (const auto& m : g.members)
      members.add({m.member_id, m.client_id, m.client_host, assignment_text(assignment_of(g, m))});
    out += "\n" + members.render();
  }
  print(out);
  return 0;
}

std::map<int32_t, int64_t> reset_targets(KafkaClient& client, const GroupArgs& args) {
  const TopicInfo topic = client.wait_for_topic(args.topic);
  auto partitions = partitions_of(topic, std::nullopt);
  switch (args.to) {
    case StartAt::kBeginning:
      return list_offsets(client, args.topic, partitions, -2);
    case StartAt::kOffset: {
      std::map<int32_t, int64_t> out;
      for (int32_t p : partitions) out[p] = args.to_offset;
      return out;
    }
    case StartAt::kTimestamp: {
      auto out = list_offsets(client, args.topic, partitions, args.to_timestamp_ms);
      auto ends = list_offsets(client, args.topic, partitions, -1);
      for (auto& [p, o] : out) o = o >= 0 ? o : ends[p];
      return out;
    }
    default:
      return list_offsets(client, args.topic, partitions, -1);
  }
}

int reset_offsets(KafkaClient& client, const Invocation& inv) {
  const GroupArgs& args = inv.group;
  auto g = describe(client, args.group);
  // Kafka refuses to move the offsets of a group with live members: they
  // would overwrite the reset with their next commit.
  if (!g.members.empty()) {
    throw ClientError("group '" + args.group + "' has " + std::to_string(g.members.size()) +
                      " active members (state " + g.group_state + "); stop them first");
  }
  auto targets = reset_targets(client, args);
  if (args.execute) commit_offsets(client, args.group, args.topic, targets);
  JsonOut j;
  Table table({"TOPIC", "PARTITION", "NEW-OFFSET"});
  j.w().StartObject();
  j.key("executed");
  j.w().Bool(args.execute);
  j.key("offsets");
  j.w().StartArray();
  for (const auto& [p, o] : targets) {
    j.w().StartObject();
    j.key("topic");
    j.string(args.topic);
    j.key("partition");
    j.w().Int(p);
    j.key("offset");
    j.w().Int64(o);
    j.w().EndObject();
    table.add({args.topic, std::to_string(p), std::to_string(o)});
  }
  j.w().EndArray();
  j.w().EndObject();
  std::string note = args.execute ? "" : "(dry run: add --execute to apply)\n";
  print(inv.common.json ? j.str() : table.render() + note);
  return 0;
}

int delete_group(KafkaClient& client, const Invocation& inv) {
  kafka::DeleteGroupsRequest request;
  request.groups_names.push_back(inv.group.group);
  auto r = client.call_coordinator<kafka::DeleteGroupsResponse>(
      inv.group.group, versions::kDeleteGroups, request, [](const kafka::DeleteGroupsResponse& r) {
        return r.results.empty() ? ErrorCode::kUnknownServerError : r.results[0].error_code;
      });
  ErrorCode error = r.results.empty() ? ErrorCode::kUnknownServerError : r.results[0].error_code;
  if (error == ErrorCode::kGroupIdNotFound) {
    throw ClientError("group '" + inv.group.group + "' does not exist");
  }
  if (error != ErrorCode::kNone) {
    throw ClientError("cannot delete group '" + inv.group.group + "': " + kafka_error_name(error));
  }
  print_deleted(inv.common.json, "group", inv.group.group);
  return 0;
}

}  // namespace

int run_group(const Invocation& inv) {
  KafkaClient client(client_config(inv.common));
  const std::string& action = inv.group.action;
  if (action == "list") return list_groups(client, inv);
  if (action == "describe") return describe_group(client, inv);
  if (action == "reset-offsets") return reset_offsets(client, inv);
  return delete_group(client, inv);
}

}  // namespace dmq::client
