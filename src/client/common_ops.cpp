// Helpers shared by the client commands (see commands.h).

#include <cstdio>

#include "client/commands.h"
#include "client/json_out.h"

namespace dmq::client {

using kafka::ErrorCode;

ClientConfig client_config(const CommonArgs& common) {
  ClientConfig config;
  config.bootstrap = common.brokers;
  config.request_timeout_ms = common.timeout_ms;
  return config;
}

void print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void print_deleted(bool json, const std::string& kind, const std::string& name) {
  if (!json) {
    print("deleted " + kind + " " + name + "\n");
    return;
  }
  JsonOut j;
  j.w().StartObject();
  j.key("deleted");
  j.string(name);
  j.w().EndObject();
  print(j.str());
}

std::vector<int32_t> partitions_of(const TopicInfo& topic, std::optional<int32_t> only) {
  std::vector<int32_t> out;
  for (const auto& p : topic.partitions) {
    if (!only || p.index == *only) out.push_back(p.index);
  }
  if (only && out.empty()) {
    throw ClientError("topic '" + topic.name + "' has no partition " + std::to_string(*only));
  }
  return out;
}

namespace {

// One ListOffsets round to one leader; partitions it could not answer for
// (leadership moved) are added to `retry`.
void list_offsets_at(KafkaClient& client, int32_t leader, const std::string& topic,
                     const std::vector<int32_t>& partitions, int64_t timestamp,
                     std::map<int32_t, int64_t>& out, std::vector<int32_t>& retry) {
  kafka::ListOffsetsRequest request;
  auto& t = request.topics.emplace_back();
  t.name = topic;
  for (int32_t p : partitions) t.partitions.push_back({p, -1, timestamp});
  auto response = client.call<kafka::ListOffsetsResponse>(leader, versions::kListOffsets, request);
  for (const auto& rt : response.topics) {
    for (const auto& rp : rt.partitions) {
      if (rp.error_code == ErrorCode::kNone) {
        out[rp.partition_index] = rp.offset;
      } else if (is_retriable_error(rp.error_code)) {
        retry.push_back(rp.partition_index);
      } else {
        throw ClientError("ListOffsets " + topic + "/" + std::to_string(rp.partition_index) + ": " +
                          kafka_error_name(rp.error_code));
      }
    }
  }
}

}  // namespace

std::map<int32_t, int64_t> list_offsets(KafkaClient& client, const std::string& topic,
                                        const std::vector<int32_t>& partitions, int64_t timestamp) {
  std::map<int32_t, int64_t> out;
  std::vector<int32_t> todo = partitions;
  for (int attempt = 1; !todo.empty(); ++attempt) {
    std::vector<int32_t> retry;
    auto routes = client.cluster().by_leader(topic, todo, &retry);
    for (const auto& [leader, parts] : routes) {
      try {
        list_offsets_at(client, leader, topic, parts, timestamp, out, retry);
      } catch (const BrokerUnavailable&) {
        retry.insert(retry.end(), parts.begin(), parts.end());
      }
    }
    todo = retry;
    if (!todo.empty()) {
      client.backoff(attempt, "the offsets of topic '" + topic + "'");
      client.refresh_metadata({topic});
    }
  }
  return out;
}

ErrorCode send_commit(KafkaClient& client, const std::string& group, const std::string& topic,
                      const std::map<int32_t, int64_t>& offsets, int32_t generation,
                      std::string_view member_id) {
  if (offsets.empty()) return ErrorCode::kNone;
  kafka::OffsetCommitRequest request;
  request.group_id = group;
  request.generation_id = generation;
  request.member_id = member_id;
  auto& t = request.topics.emplace_back();
  t.name = topic;
  for (const auto& [p, offset] : offsets) t.partitions.push_back({p, offset, -1, std::nullopt});
  auto first_error = [](const kafka::OffsetCommitResponse& response) {
    for (const auto& rt : response.topics) {
      for (const auto& rp : rt.partitions) {
        if (rp.error_code != ErrorCode::kNone) return rp.error_code;
      }
    }
    return ErrorCode::kNone;
  };
  auto response = client.call_coordinator<kafka::OffsetCommitResponse>(
      group, versions::kOffsetCommit, request, first_error);
  return first_error(response);
}

void commit_offsets(KafkaClient& client, const std::string& group, const std::string& topic,
                    const std::map<int32_t, int64_t>& offsets) {
  // A simple consumer's commit, as KafkaConsumer.assign() makes.
  ErrorCode error = send_commit(client, group, topic, offsets, -1, "");
  // A generation -1 commit is refused while the group has joined members.
  if (error == ErrorCode::kUnknownMemberId || error == ErrorCode::kIllegalGeneration) {
    throw ClientError("group '" + group +
                      "' has active members; dmq commits as a simple consumer, which Kafka "
                      "refuses while the group protocol manages the group (" +
                      kafka_error_name(error) + ")");
  }
  if (error != ErrorCode::kNone) {
    throw ClientError("committing offsets of group '" + group + "': " + kafka_error_name(error));
  }
}

}  // namespace dmq::client
