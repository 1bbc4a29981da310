#pragma once
// Client quotas as Kafka defines them (KIP-13, KIP-55, KIP-124, KIP-546):
// entities, keys, validation of a change, and which configured quota applies
// to a (user, client-id) pair. Pure: no clock, no I/O.
//
// An entity names a user and/or a client id; each component is a name or
// the default of its type (Kafka's null name, shown as <default>). The
// controllers store one double per (entity, key) in the metadata image.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dmq::quota {

inline constexpr std::string_view kUserType = "user";
inline constexpr std::string_view kClientIdType = "client-id";

// entity type ("user" or "client-id") -> name; nullopt is the type's default.
using Entity = std::map<std::string, std::optional<std::string>, std::less<>>;
// Every configured quota: entity -> key ("producer_byte_rate", ...) -> value.
using QuotaTable = std::map<Entity, std::map<std::string, double, std::less<>>>;

// What a quota limits. Byte rates are bytes per second; request is the
// percentage of one thread's time spent handling the entity's requests.
enum class Kind : uint8_t { kProduce = 0, kFetch = 1, kRequest = 2 };
inline constexpr int kKinds = 3;

// Kafka's key names: producer_byte_rate, consumer_byte_rate, request_percentage.
std::string_view key_name(Kind kind);
// The kind of a key name; nullopt for anything else.
std::optional<Kind> kind_of_key(std::string_view key);
// "produce", "fetch", "request": the metric label.
std::string_view kind_label(Kind kind);

// Kafka's refusals (INVALID_REQUEST), as a one-line reason; nullopt when valid.
// An entity has one or two components, each "user" or "client-id".
std::optional<std::string> validate_entity(const Entity& entity);
// A key must be one of the three; a value finite and positive, and a byte
// rate a whole number (Kafka's LONG keys refuse a fractional part).
std::optional<std::string> validate_quota(std::string_view key, double value);

// "user=alice,client-id=<default>" for logs and errors.
std::string entity_to_string(const Entity& entity);

// The quota that applies to one request and the entity its usage is
// measured against. Entities sharing `user_tag` and `client_tag` share one
// rate: /users/alice applies to all of alice's clients together, while a
// default (/users/<default>) gives each user a quota of its own (Kafka's
// DefaultQuotaCallback tags).
struct Resolved {
  std::optional<double> limit;  // nullopt: unlimited
  std::string user_tag;
  std::string client_tag;
  bool operator==(const Resolved&) const = default;
};

// KIP-55's order, first match wins:
//   /users/<u>/clients/<c>, /users/<u>/clients/<default>, /users/<u>,
//   /users/<default>/clients/<c>, /users/<default>/clients/<default>,
//   /users/<default>, /clients/<c>, /clients/<default>,
// then `broker_default` (quota.producer.default / quota.consumer.default),
// measured per client id as Kafka's old defaults were.
Resolved resolve(const QuotaTable& table, Kind kind, std::string_view user,
                 std::string_view client_id, std::optional<double> broker_default);

}  // namespace dmq::quota
