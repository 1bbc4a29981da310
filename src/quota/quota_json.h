#pragma once
// The REST shapes of client quotas (README "Quotas"):
//
//   POST /v1/quotas  {"entity":{"user":"alice","client-id":null},
//                     "ops":[{"key":"producer_byte_rate","value":1048576},
//                            {"key":"consumer_byte_rate","remove":true}],
//                     "validate_only":false}
//   GET  /v1/quotas  {"quotas":[{"entity":{"user":"alice"},
//                                "values":{"producer_byte_rate":1048576}}]}
//
// In an entity a type that is present with null is that type's default; a
// type that is absent is not part of the entity. Pure: no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "quota/quota.h"

namespace dmq::quota {

struct QuotaOp {
  std::string key;
  std::optional<double> value;  // nullopt: remove
  bool operator==(const QuotaOp&) const = default;
};

struct Alteration {
  Entity entity;
  std::vector<QuotaOp> ops;
  bool validate_only = false;
};

// Checks what the state machine will check (validate_entity, validate_quota)
// and that each key appears once. A one-line reason on any error.
std::optional<std::string> validate_alteration(const Alteration& alteration);

// The body of POST /v1/quotas, validated; the error is a one-line reason.
std::variant<Alteration, std::string> parse_alteration(std::string_view body);
// The body a broker sends for AlterClientQuotas (parse_alteration reads it).
std::string alteration_to_json(const Alteration& alteration);

std::string entity_to_json(const Entity& entity);
// {"quotas":[...]} of every entity of `table` that `keep` accepts.
template <class Keep>
std::string quotas_to_json(const QuotaTable& table, Keep&& keep);
std::string quota_entry_json(const Entity& entity,
                             const std::map<std::string, double, std::less<>>& values);

template <class Keep>
std::string quotas_to_json(const QuotaTable& table, Keep&& keep) {
  std::string out = "{\"quotas\":[";
  bool first = true;
  for (const auto& [entity, values] : table) {
    if (!keep(entity)) continue;
    if (!first) out += ',';
    first = false;
    out += quota_entry_json(entity, values);
  }
  return out + "]}";
}

}  // namespace dmq::quota
