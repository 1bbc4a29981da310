#pragma once
// The client's picture of the cluster, built from a Metadata response: where
// each broker is and which broker leads each partition. Pure (no I/O), so the
// routing rules are unit-tested: KafkaClient fills it and asks it where to
// send, and which errors mean "refresh the metadata and try again".

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/options.h"
#include "kafka/protocol/messages.h"

namespace dmq::client {

struct PartitionInfo {
  int32_t index = 0;
  int32_t leader = -1;  // -1: no leader right now
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  kafka::ErrorCode error = kafka::ErrorCode::kNone;
  bool under_replicated() const { return isr.size() < replicas.size(); }
};

struct TopicInfo {
  std::string name;
  kafka::ErrorCode error = kafka::ErrorCode::kNone;
  bool internal = false;
  std::vector<PartitionInfo> partitions;  // sorted by index
};

struct BrokerInfo {
  int32_t id = 0;
  HostPort address;
  std::optional<std::string> rack;
};

class ClusterMap {
 public:
  // Replaces what `response` describes: every broker, and the topics it names.
  // With `all_topics`, topics the response leaves out are forgotten (deleted).
  void update(const kafka::MetadataResponse& response, bool all_topics);

  const std::map<int32_t, BrokerInfo>& brokers() const { return brokers_; }
  const std::map<std::string, TopicInfo>& topics() const { return topics_; }
  const TopicInfo* topic(const std::string& name) const;
  std::optional<HostPort> broker_address(int32_t id) const;
  int32_t controller_id() const { return controller_id_; }
  const std::string& cluster_id() const { return cluster_id_; }

  // The leader of `partition`, if the topic and partition are known and have one.
  std::optional<int32_t> leader_of(const std::string& topic, int32_t partition) const;

  // Groups `partitions` of `topic` by leader. Partitions without a known
  // leader are returned in `leaderless` so the caller refreshes and retries.
  std::map<int32_t, std::vector<int32_t>> by_leader(const std::string& topic,
                                                    const std::vector<int32_t>& partitions,
                                                    std::vector<int32_t>* leaderless) const;

 private:
  std::map<int32_t, BrokerInfo> brokers_;
  std::map<std::string, TopicInfo> topics_;
  int32_t controller_id_ = -1;
  std::string cluster_id_;
};

// Errors after which a request to a partition leader is worth retrying once
// the metadata has been refreshed: leadership moved or is being elected.
bool is_stale_metadata_error(kafka::ErrorCode error);

// Errors after which a group request is retried after FindCoordinator again.
bool is_coordinator_error(kafka::ErrorCode error);

// Transient errors worth retrying as they are, after a short pause.
bool is_retriable_error(kafka::ErrorCode error);

// "UNKNOWN_TOPIC_OR_PARTITION" from kUnknownTopicOrPartition: Kafka's own
// spelling, which operators search for.
std::string kafka_error_name(kafka::ErrorCode error);

}  // namespace dmq::client
