#pragma once
// JSON views of the metadata image for the REST API, in the shapes of
// DESIGN.md §3, and the parsing of the topic-creation body. Pure functions of
// the image; the caller owns threading (hold the image steady while rendering).

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/error.h"
#include "cluster/metadata_state.h"
#include "cluster/placement.h"
#include "cluster/reassignment.h"
#include "cluster/rebalance.h"

namespace dmq::cluster {

// Offsets only a broker knows (DESIGN.md: filled by the broker).
struct PartitionOffsets {
  int64_t log_start_offset = 0;
  int64_t high_watermark = 0;
  int64_t size_bytes = 0;  // the replica's log segments on this node's disk
};
// nullopt (or an empty function) renders the two fields as null.
using PartitionOffsetsFn =
    std::function<std::optional<PartitionOffsets>(std::string_view topic, PartitionId partition)>;

// {"brokers":[{"id","host","kafka_port","http_port","rack","status":"alive|fenced","epoch"}]}
// "host" is the advertised Kafka host; "rack" is null when unset.
std::string brokers_json(const MetadataState& state);

// {"topics":[{"name","id","partitions","replication_factor"}]}, by name;
// only the topics `shown` accepts when it is set.
std::string topics_json(const MetadataState& state,
                        const std::function<bool(const std::string&)>& shown = {});

// {"name","id","partitions":[{"partition","leader","leader_epoch",
// "partition_epoch","replicas","isr","log_start_offset","high_watermark",
// "size_bytes"}],
// "configs":{}}; "leader" is -1
// when offline. nullopt if the topic does not exist (answer 404 unknown_topic).
std::optional<std::string> topic_json(const MetadataState& state, std::string_view name,
                                      const PartitionOffsetsFn& offsets = {});

// {"error":{"code":"topic_exists","message":"..."}}; status: error_http_status().
std::string error_json(const Error& error);

// Reads POST /v1/topics' body {"name","partitions","replication_factor",
// "configs":{string: string}}. Missing (or -1) partitions / replication_factor
// take the defaults (num.partitions, default.replication.factor). kInvalidRequest for a
// missing name or a field of the wrong type; range checks happen in
// plan_create_topic().
Result<CreateTopicRequest> parse_create_topic_request(const rapidjson::Value& body,
                                                      int64_t default_partitions,
                                                      int64_t default_replication_factor);

// GET /v1/reassignments: {"reassignments":[{"topic","partition","replicas",
// "adding_replicas","removing_replicas","isr","leader"}]}, by topic and partition.
std::string reassignments_json(const MetadataState& state);

// One partition in that shape (the answer of POST .../reassign), or nullopt.
std::optional<std::string> partition_reassignment_json(const MetadataState& state,
                                                       std::string_view topic,
                                                       PartitionId partition);

// POST /v1/rebalance: {"moves":[{"topic","partition","from":[ids],"to":[ids]}]}.
std::string moves_json(const std::vector<PartitionMove>& moves);

// POST /v1/elect-leaders: {"results":[{"topic","partition","result"}]},
// result = election_outcome_name ("elected", "election_not_needed", ...).
std::string election_results_json(const std::vector<ElectionResult>& results);

// {"replicas":[ids]}: kInvalidReplicaAssignment if missing, not an array of
// broker ids (0..2^31-1) or longer than 64; emptiness and duplicates are
// plan_reassignment's checks.
Result<std::vector<BrokerId>> parse_replicas_body(const rapidjson::Value& body);

struct ElectLeadersRequest {
  ElectionType type = ElectionType::kPreferred;
  std::optional<std::vector<TopicPartitionRef>> partitions;  // absent: all
};
// {"type":"preferred|unclean","partitions"?:[{"topic","partition"}]}.
Result<ElectLeadersRequest> parse_elect_leaders_body(const rapidjson::Value& body);

}  // namespace dmq::cluster
