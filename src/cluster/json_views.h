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

// {"topics":[{"name","id","partitions","replication_factor"}]}, by name.
std::string topics_json(const MetadataState& state);

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

}  // namespace dmq::cluster
