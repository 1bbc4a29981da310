#include "cluster/image_codec.h"

#include "cluster/byte_codec.h"
#include "cluster/record_format.h"

namespace dmq::cluster {
namespace {

Error corrupt(std::string what) {
  return Error{ErrorCode::kCorruptStore, std::move(what)};
}

bool any_reassignment(const TopicState& t) {
  for (const PartitionState& p : t.partitions) {
    if (p.reassigning()) return true;
  }
  return false;
}

}  // namespace

std::string encode_broker(const BrokerRegistration& b) {
  ByteWriter w;
  w.u8(b.listeners.empty() ? format::kTableValueVersion : format::kBrokerValueListenersVersion);
  w.i32(b.id.value);
  w.str(b.incarnation_id);
  w.str(b.kafka_host);
  w.u16(b.kafka_port);
  w.str(b.http_host);
  w.u16(b.http_port);
  w.str(b.rack);
  w.i64(b.epoch.value);
  w.boolean(b.fenced);
  if (!b.listeners.empty()) put_broker_listeners(w, b.listeners);
  return w.take();
}

Result<BrokerRegistration> decode_broker(std::string_view bytes) {
  ByteReader r(bytes);
  const uint8_t version = r.u8();
  if (!r.ok() ||
      (version != format::kTableValueVersion && version != format::kBrokerValueListenersVersion)) {
    return corrupt("broker value: bad version");
  }
  BrokerRegistration b;
  b.id = BrokerId{r.i32()};
  b.incarnation_id = r.str();
  b.kafka_host = r.str();
  b.kafka_port = r.u16();
  b.http_host = r.str();
  b.http_port = r.u16();
  b.rack = r.str();
  b.epoch = BrokerEpoch{r.i64()};
  b.fenced = r.boolean();
  if (version == format::kBrokerValueListenersVersion) b.listeners = get_broker_listeners(r);
  if (!r.done()) return corrupt("broker value: truncated or trailing bytes");
  return b;
}

std::string encode_topic(const TopicState& t) {
  ByteWriter w;
  const bool reassignments = any_reassignment(t);
  w.u8(reassignments ? format::kTopicValueReassignmentVersion : format::kTableValueVersion);
  w.str(t.name);
  w.str(t.topic_id);
  put_config_map(w, t.configs);
  w.u32(static_cast<uint32_t>(t.partitions.size()));
  for (const PartitionState& p : t.partitions) {
    w.i32(p.id.value);
    put_broker_ids(w, p.replicas);
    put_broker_ids(w, p.isr);
    w.i32(p.leader.value);
    w.i32(p.leader_epoch.value);
    w.i32(p.partition_epoch.value);
    if (reassignments) {
      put_broker_ids(w, p.adding_replicas);
      put_broker_ids(w, p.removing_replicas);
    }
  }
  return w.take();
}

Result<TopicState> decode_topic(std::string_view bytes) {
  ByteReader r(bytes);
  const uint8_t version = r.u8();
  if (!r.ok() || (version != format::kTableValueVersion &&
                  version != format::kTopicValueReassignmentVersion)) {
    return corrupt("topic value: bad version");
  }
  TopicState t;
  t.name = r.str();
  t.topic_id = r.str();
  t.configs = get_config_map(r);
  uint32_t n = r.count(24);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    PartitionState p;
    p.id = PartitionId{r.i32()};
    p.replicas = get_broker_ids(r);
    p.isr = get_broker_ids(r);
    p.leader = BrokerId{r.i32()};
    p.leader_epoch = LeaderEpoch{r.i32()};
    p.partition_epoch = PartitionEpoch{r.i32()};
    if (version == format::kTopicValueReassignmentVersion) {
      p.adding_replicas = get_broker_ids(r);
      p.removing_replicas = get_broker_ids(r);
    }
    if (p.id.value != static_cast<int32_t>(i)) r.fail();
    t.partitions.push_back(std::move(p));
  }
  if (!r.done()) return corrupt("topic value: truncated, out of order or trailing bytes");
  return t;
}

namespace {

// Entities ascending, keys ascending in each: the encoding stays canonical.
void decode_client_quotas(ByteReader& r, quota::QuotaTable& table) {
  uint32_t entities = r.count(13);
  for (uint32_t i = 0; i < entities && r.ok(); ++i) {
    quota::Entity entity = get_quota_entity(r);
    if (!table.empty() && entity <= table.rbegin()->first) r.fail();
    auto& quotas = table[std::move(entity)];
    uint32_t keys = r.count(12);
    for (uint32_t k = 0; k < keys && r.ok(); ++k) {
      std::string key = r.str();
      if (!quotas.empty() && key <= quotas.rbegin()->first) r.fail();
      quotas[std::move(key)] = get_double(r);
    }
  }
}

}  // namespace

std::string encode_globals(const MetadataImage& image) {
  ByteWriter w;
  w.u8(format::kGlobalsValueVersion);
  w.i64(image.next_producer_id.value);
  w.u32(static_cast<uint32_t>(image.broker_configs.size()));
  for (const auto& [name, configs] : image.broker_configs) {
    w.str(name);
    put_config_map(w, configs);
  }
  w.u32(static_cast<uint32_t>(image.scram_credentials.size()));
  for (const auto& [user, by_mechanism] : image.scram_credentials) {
    w.str(user);
    put_config_map(w, ConfigMap(by_mechanism.begin(), by_mechanism.end()));
  }
  w.u32(static_cast<uint32_t>(image.acls.size()));
  for (const std::string& binding : image.acls) w.str(binding);
  w.u32(static_cast<uint32_t>(image.client_quotas.size()));
  for (const auto& [entity, quotas] : image.client_quotas) {
    put_quota_entity(w, entity);
    w.u32(static_cast<uint32_t>(quotas.size()));
    for (const auto& [key, value] : quotas) {
      w.str(key);
      put_double(w, value);
    }
  }
  return w.take();
}

Status decode_globals(std::string_view bytes, MetadataImage* image) {
  ByteReader r(bytes);
  const uint8_t version = r.u8();
  if (!r.ok() || version < 1 || version > format::kGlobalsValueVersion) {
    return corrupt("globals value: bad version");
  }
  image->next_producer_id = ProducerId{r.i64()};
  image->broker_configs.clear();
  uint32_t n = r.count(8);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string name = r.str();
    image->broker_configs[std::move(name)] = get_config_map(r);
  }
  image->scram_credentials.clear();
  if (version >= 2) {
    uint32_t users = r.count(8);
    for (uint32_t i = 0; i < users && r.ok(); ++i) {
      std::string user = r.str();
      ConfigMap by_mechanism = get_config_map(r);
      image->scram_credentials[std::move(user)].insert(by_mechanism.begin(), by_mechanism.end());
    }
  }
  image->acls.clear();
  if (version >= 3) {
    uint32_t acls = r.count(4);
    for (uint32_t i = 0; i < acls && r.ok(); ++i) image->acls.insert(r.str());
  }
  image->client_quotas.clear();
  if (version >= 4) decode_client_quotas(r, image->client_quotas);
  if (!r.done()) return corrupt("globals value: truncated or trailing bytes");
  return {};
}

std::string encode_image(const MetadataImage& image) {
  ByteWriter w;
  w.u32(static_cast<uint32_t>(image.brokers.size()));
  for (const auto& [id, b] : image.brokers) w.str(encode_broker(b));
  w.u32(static_cast<uint32_t>(image.topics.size()));
  for (const auto& [name, t] : image.topics) w.str(encode_topic(t));
  w.str(encode_globals(image));
  return w.take();
}

Result<MetadataImage> decode_image(std::string_view bytes) {
  ByteReader r(bytes);
  MetadataImage image;
  uint32_t n = r.count(4);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    auto b = decode_broker(r.str());
    if (!b) return b.error();
    BrokerId id = b.value().id;
    image.brokers[id] = std::move(b).value();
  }
  n = r.count(4);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    auto t = decode_topic(r.str());
    if (!t) return t.error();
    std::string name = t.value().name;
    image.topics[name] = std::move(t).value();
  }
  std::string globals = r.str();
  if (!r.done()) return corrupt("image: truncated or trailing bytes");
  if (Status s = decode_globals(globals, &image); !s) return s.error();
  return image;
}

}  // namespace dmq::cluster
