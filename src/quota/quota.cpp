#include "quota/quota.h"

#include <array>
#include <cmath>

namespace dmq::quota {

namespace {

constexpr std::array<std::string_view, kKinds> kKeys = {"producer_byte_rate", "consumer_byte_rate",
                                                        "request_percentage"};
constexpr std::array<std::string_view, kKinds> kLabels = {"produce", "fetch", "request"};

// One level of KIP-55's order: which components the entity has (and whether
// each is the default), and which tags the measured entity gets.
struct Level {
  enum Part : uint8_t { kAbsent, kName, kDefault };
  Part user;
  Part client;
  bool tag_user;
  bool tag_client;
};

constexpr std::array<Level, 8> kLevels = {{
    {Level::kName, Level::kName, true, true},
    {Level::kName, Level::kDefault, true, true},
    {Level::kName, Level::kAbsent, true, false},
    {Level::kDefault, Level::kName, true, true},
    {Level::kDefault, Level::kDefault, true, true},
    {Level::kDefault, Level::kAbsent, true, false},
    {Level::kAbsent, Level::kName, false, true},
    {Level::kAbsent, Level::kDefault, false, true},
}};

void add_part(Entity& entity, std::string_view type, Level::Part part, std::string_view name) {
  if (part == Level::kAbsent) return;
  entity.emplace(std::string(type),
                 part == Level::kName ? std::optional<std::string>(name) : std::nullopt);
}

}  // namespace

std::string_view key_name(Kind kind) {
  return kKeys[static_cast<size_t>(kind)];
}
std::string_view kind_label(Kind kind) {
  return kLabels[static_cast<size_t>(kind)];
}

std::optional<Kind> kind_of_key(std::string_view key) {
  for (size_t i = 0; i < kKeys.size(); ++i)
    if (kKeys[i] == key) return static_cast<Kind>(i);
  return std::nullopt;
}

std::optional<std::string> validate_entity(const Entity& entity) {
  if (entity.empty()) return "a quota entity needs a user and/or a client-id";
  for (const auto& [type, name] : entity) {
    if (type != kUserType && type != kClientIdType)
      return "unknown quota entity type '" + type + "' (user or client-id)";
    if (name && name->empty()) return "an empty " + type + " name (null means the default)";
  }
  return std::nullopt;
}

std::optional<std::string> validate_quota(std::string_view key, double value) {
  auto kind = kind_of_key(key);
  if (!kind)
    return "unknown quota key '" + std::string(key) +
           "' (producer_byte_rate, consumer_byte_rate or request_percentage)";
  if (!std::isfinite(value) || value <= 0)
    return "quota " + std::string(key) + " must be a positive number";
  if (*kind != Kind::kRequest && (value != std::floor(value) || value > 9.2e18))
    return "quota " + std::string(key) + " must be a whole number of bytes per second";
  return std::nullopt;
}

std::string entity_to_string(const Entity& entity) {
  std::string out;
  for (const auto& [type, name] : entity) {
    if (!out.empty()) out += ',';
    out += type + "=" + (name ? *name : "<default>");
  }
  return out;
}

Resolved resolve(const QuotaTable& table, Kind kind, std::string_view user,
                 std::string_view client_id, std::optional<double> broker_default) {
  const std::string_view key = key_name(kind);
  if (!table.empty()) {
    for (const Level& level : kLevels) {
      Entity entity;
      add_part(entity, kUserType, level.user, user);
      add_part(entity, kClientIdType, level.client, client_id);
      auto it = table.find(entity);
      if (it == table.end()) continue;
      auto value = it->second.find(key);
      if (value == it->second.end()) continue;
      return {value->second, level.tag_user ? std::string(user) : std::string(),
              level.tag_client ? std::string(client_id) : std::string()};
    }
  }
  if (broker_default) return {broker_default, std::string(), std::string(client_id)};
  return {};
}

}  // namespace dmq::quota
