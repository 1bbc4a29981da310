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

std::string topics_json(const MetadataState& state) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  key(w, "topics");
  w.StartArray();
  for (const auto& [name, t] : state.image().topics) {
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
