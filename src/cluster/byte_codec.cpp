#include "cluster/byte_codec.h"

#include <bit>

namespace dmq::cluster {

void ByteWriter::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  raw(s);
}

bool ByteReader::boolean() {
  uint8_t v = u8();
  if (v > 1) fail();
  return v == 1;
}

std::string ByteReader::str(size_t max_bytes) {
  uint32_t n = u32();
  if (n > max_bytes) {
    fail();
    return {};
  }
  return std::string(raw(n));
}

uint32_t ByteReader::count(size_t min_element_bytes) {
  uint32_t n = u32();
  if (min_element_bytes == 0) min_element_bytes = 1;
  if (!ok() || n > remaining() / min_element_bytes) {
    fail();
    return 0;
  }
  return n;
}

void put_broker_ids(ByteWriter& w, const std::vector<BrokerId>& ids) {
  w.u32(static_cast<uint32_t>(ids.size()));
  for (BrokerId id : ids) w.i32(id.value);
}

std::vector<BrokerId> get_broker_ids(ByteReader& r) {
  uint32_t n = r.count(4);
  std::vector<BrokerId> ids;
  ids.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) ids.emplace_back(r.i32());
  return ids;
}

void put_config_map(ByteWriter& w, const std::map<std::string, std::string>& configs) {
  w.u32(static_cast<uint32_t>(configs.size()));
  for (const auto& [k, v] : configs) {
    w.str(k);
    w.str(v);
  }
}

void put_broker_listeners(ByteWriter& w, const std::vector<BrokerListener>& listeners) {
  w.u32(static_cast<uint32_t>(listeners.size()));
  for (const auto& l : listeners) {
    w.str(l.name);
    w.str(l.host);
    w.u16(l.port);
    w.str(l.security_protocol);
  }
}

std::vector<BrokerListener> get_broker_listeners(ByteReader& r) {
  uint32_t n = r.count(14);
  std::vector<BrokerListener> listeners;
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    BrokerListener l;
    l.name = r.str();
    l.host = r.str();
    l.port = r.u16();
    l.security_protocol = r.str();
    listeners.push_back(std::move(l));
  }
  return listeners;
}

std::map<std::string, std::string> get_config_map(ByteReader& r) {
  uint32_t n = r.count(8);
  std::map<std::string, std::string> configs;
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.str();
    if (!configs.empty() && k <= configs.rbegin()->first) r.fail();
    configs[std::move(k)] = r.str();
  }
  return configs;
}

void put_double(ByteWriter& w, double v) {
  w.u64(std::bit_cast<uint64_t>(v));
}

double get_double(ByteReader& r) {
  return std::bit_cast<double>(r.u64());
}

void put_quota_entity(ByteWriter& w, const quota::Entity& entity) {
  w.u32(static_cast<uint32_t>(entity.size()));
  for (const auto& [type, name] : entity) {
    w.str(type);
    w.boolean(name.has_value());
    if (name) w.str(*name);
  }
}

quota::Entity get_quota_entity(ByteReader& r) {
  uint32_t n = r.count(5);
  quota::Entity entity;
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string type = r.str();
    if (!entity.empty() && type <= entity.rbegin()->first) r.fail();
    std::optional<std::string> name;
    if (r.boolean()) name = r.str();
    entity[std::move(type)] = std::move(name);
  }
  return entity;
}

}  // namespace dmq::cluster
