#include "cluster/json_views.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace dmq::cluster {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void key(JsonWriter& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

void string(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void broker_list(JsonWriter& w, const std::vector<BrokerId>& ids) {
  w.StartArray();
  for (BrokerId id : ids) w.Int(id.value);
  w.EndArray();
}

void configs(JsonWriter& w, const ConfigMap& map) {
  w.StartObject();
  for (const auto& [k, v] : map) {
    key(w, k);
    string(w, v);
  }
  w.EndObject();
}

void partition(JsonWriter& w, const std::string& topic, const PartitionState& p,
               const PartitionOffsetsFn& offsets) {
  std::optional<PartitionOffsets> o;
  if (offsets) o = offsets(topic, p.id);
  w.StartObject();
  key(w, "partition");
  w.Int(p.id.value);
  key(w, "leader");
  w.Int(p.leader.value);
  key(w, "leader_epoch");
  w.Int(p.leader_epoch.value);
  key(w, "partition_epoch");
  w.Int(p.partition_epoch.value);
  key(w, "replicas");
  broker_list(w, p.replicas);
  key(w, "isr");
  broker_list(w, p.isr);
  if (p.reassigning()) {
    key(w, "adding_replicas");
    broker_list(w, p.adding_replicas);
    key(w, "removing_replicas");
    broker_list(w, p.removing_replicas);
  }
  key(w, "log_start_offset");
  o ? w.Int64(o->log_start_offset) : w.Null();
  key(w, "high_watermark");
  o ? w.Int64(o->high_watermark) : w.Null();
  key(w, "size_bytes");
  o ? w.Int64(o->size_bytes) : w.Null();
  w.EndObject();
}

Error bad_field(const char* what) {
  return Error{ErrorCode::kInvalidRequest, what};
}

void topic_partition(JsonWriter& w, std::string_view topic, PartitionId partition) {
  key(w, "topic");
  string(w, topic);
  key(w, "partition");
  w.Int(partition.value);
}

void reassignment(JsonWriter& w, const std::string& topic, const PartitionState& p) {
  w.StartObject();
  topic_partition(w, topic, p.id);
  key(w, "replicas");
  broker_list(w, p.replicas);
  key(w, "adding_replicas");
  broker_list(w, p.adding_replicas);
  key(w, "removing_replicas");
  broker_list(w, p.removing_replicas);
  key(w, "isr");
  broker_list(w, p.isr);
  key(w, "leader");
  w.Int(p.leader.value);
  w.EndObject();
}

std::optional<PartitionId> partition_id(const rapidjson::Value& v) {
  if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > INT32_MAX) return std::nullopt;
  return PartitionId{static_cast<int32_t>(v.GetInt64())};
}

}  // namespace

std::string brokers_json(const MetadataState& state) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  key(w, "brokers");
  w.StartArray();
  for (const auto& [id, b] : state.image().brokers) {
    w.StartObject();
    key(w, "id");
    w.Int(id.value);
    key(w, "host");
    string(w, b.kafka_host);
    key(w, "kafka_port");
    w.Uint(b.kafka_port);
    key(w, "http_port");
    w.Uint(b.http_port);
    key(w, "listeners");
    w.StartArray();
    for (const auto& l : b.listeners) {
      w.StartObject();
      key(w, "name");
      string(w, l.name);
      key(w, "host");
      string(w, l.host);
      key(w, "port");
      w.Uint(l.port);
      key(w, "security_protocol");
      string(w, l.security_protocol);
      w.EndObject();
    }
    w.EndArray();
    key(w, "rack");
    if (b.rack.empty()) {
      w.Null();
    } else {
      string(w, b.rack);
    }
    key(w, "status");
    string(w, b.fenced ? "fenced" : "alive");
    key(w, "epoch");
    w.Int64(b.epoch.value);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string topics_json(const MetadataState& state,
                        const std::function<bool(const std::string&)>& shown) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  key(w, "topics");
  w.StartArray();
  for (const auto& [name, t] : state.image().topics) {
    if (shown && !shown(name)) continue;
    w.StartObject();
    key(w, "name");
    string(w, name);
    key(w, "id");
    string(w, t.topic_id);
    key(w, "partitions");
    w.Uint64(t.partitions.size());
    key(w, "replication_factor");
    w.Uint64(t.partitions.empty() ? 0 : t.partitions.front().replicas.size());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::optional<std::string> topic_json(const MetadataState& state, std::string_view name,
                                      const PartitionOffsetsFn& offsets) {
  const TopicState* t = state.find_topic(name);
  if (!t) return std::nullopt;
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  key(w, "name");
  string(w, t->name);
  key(w, "id");
  string(w, t->topic_id);
  key(w, "replication_factor");
  w.Uint64(t->partitions.empty() ? 0 : t->partitions.front().replicas.size());
  key(w, "partitions");
  w.StartArray();
  for (const PartitionState& p : t->partitions) partition(w, t->name, p, offsets);
  w.EndArray();
  key(w, "configs");
  configs(w, t->configs);
  w.EndObject();
  return std::string(buf.GetString());
}

std::string error_json(const Error& error) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  key(w, "error");
  w.StartObject();
  key(w, "code");
  string(w, error_code_name(error.code));
  key(w, "message");
  string(w, error.message);
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

std::string reassignments_json(const MetadataState& state) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  key(w, "reassignments");
  w.StartArray();
  for (const auto& [name, t] : state.image().topics) {
    for (const PartitionState& p : t.partitions) {
      if (p.reassigning()) reassignment(w, name, p);
    }
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::optional<std::string> partition_reassignment_json(const MetadataState& state,
                                                       std::string_view topic,
                                                       PartitionId partition) {
  const PartitionState* p = state.find_partition(topic, partition);
  if (!p) return std::nullopt;
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  reassignment(w, std::string(topic), *p);
  return std::string(buf.GetString());
}

std::string moves_json(const std::vector<PartitionMove>& moves) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  key(w, "moves");
  w.StartArray();
  for (const PartitionMove& m : moves) {
    w.StartObject();
    topic_partition(w, m.topic, m.partition);
    key(w, "from");
    broker_list(w, m.from);
    key(w, "to");
    broker_list(w, m.to);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string election_results_json(const std::vector<ElectionResult>& results) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  key(w, "results");
  w.StartArray();
  for (const ElectionResult& r : results) {
    w.StartObject();
    topic_partition(w, r.topic, r.partition);
    key(w, "result");
    string(w, election_outcome_name(r.outcome));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

Result<std::vector<BrokerId>> parse_replicas_body(const rapidjson::Value& body) {
  const Error bad{ErrorCode::kInvalidReplicaAssignment,
                  "\"replicas\" must be an array of at most 64 broker ids"};
  if (!body.IsObject()) return bad;
  auto it = body.FindMember("replicas");
  if (it == body.MemberEnd() || !it->value.IsArray() || it->value.Size() > 64) return bad;
  std::vector<BrokerId> out;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > INT32_MAX) return bad;
    out.push_back(BrokerId{static_cast<int32_t>(v.GetInt64())});
  }
  return out;
}

Result<ElectLeadersRequest> parse_elect_leaders_body(const rapidjson::Value& body) {
  if (!body.IsObject()) return bad_field("body must be a JSON object");
  ElectLeadersRequest r;
  auto type = body.FindMember("type");
  if (type == body.MemberEnd() || !type->value.IsString()) {
    return bad_field("\"type\" (\"preferred\" or \"unclean\") is required");
  }
  const std::string_view t(type->value.GetString(), type->value.GetStringLength());
  if (t == "unclean") {
    r.type = ElectionType::kUnclean;
  } else if (t != "preferred") {
    return bad_field("\"type\" must be \"preferred\" or \"unclean\"");
  }
  auto parts = body.FindMember("partitions");
  if (parts == body.MemberEnd() || parts->value.IsNull()) return r;
  const char* shape = "\"partitions\" must be an array of {\"topic\": string, \"partition\": int}";
  if (!parts->value.IsArray()) return bad_field(shape);
  r.partitions.emplace();
  for (const auto& item : parts->value.GetArray()) {
    if (!item.IsObject()) return bad_field(shape);
    auto topic = item.FindMember("topic");
    auto partition = item.FindMember("partition");
    if (topic == item.MemberEnd() || !topic->value.IsString() || partition == item.MemberEnd())
      return bad_field(shape);
    auto id = partition_id(partition->value);
    if (!id) return bad_field(shape);
    r.partitions->push_back(
        {std::string(topic->value.GetString(), topic->value.GetStringLength()), *id});
  }
  return r;
}

Result<CreateTopicRequest> parse_create_topic_request(const rapidjson::Value& body,
                                                      int64_t default_partitions,
                                                      int64_t default_replication_factor) {
  if (!body.IsObject()) return bad_field("body must be a JSON object");
  CreateTopicRequest r;
  r.partitions = default_partitions;
  r.replication_factor = default_replication_factor;
  auto name = body.FindMember("name");
  if (name == body.MemberEnd() || !name->value.IsString()) {
    return bad_field("\"name\" (string) is required");
  }
  r.name.assign(name->value.GetString(), name->value.GetStringLength());
  if (auto p = body.FindMember("partitions"); p != body.MemberEnd()) {
    if (!p->value.IsInt64()) return bad_field("\"partitions\" must be an integer");
    // -1 asks for the default, as in Kafka's CreateTopics.
    if (p->value.GetInt64() != -1) r.partitions = p->value.GetInt64();
  }
  if (auto rf = body.FindMember("replication_factor"); rf != body.MemberEnd()) {
    if (!rf->value.IsInt64()) return bad_field("\"replication_factor\" must be an integer");
    if (rf->value.GetInt64() != -1) r.replication_factor = rf->value.GetInt64();
  }
  if (auto c = body.FindMember("configs"); c != body.MemberEnd()) {
    if (!c->value.IsObject()) return bad_field("\"configs\" must be an object");
    for (const auto& m : c->value.GetObject()) {
      if (!m.value.IsString()) return bad_field("config values must be strings");
      r.configs[std::string(m.name.GetString(), m.name.GetStringLength())] =
          std::string(m.value.GetString(), m.value.GetStringLength());
    }
  }
  return r;
}

}  // namespace dmq::cluster
