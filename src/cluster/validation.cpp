#include "cluster/validation.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <string>

namespace dmq::cluster {

Status validate_topic_name(std::string_view name) {
  if (name.empty()) return Error{ErrorCode::kInvalidTopicName, "topic name is empty"};
  if (name.size() > kMaxTopicNameLength) {
    return Error{ErrorCode::kInvalidTopicName, "topic name is " + std::to_string(name.size()) +
                                                   " characters; the limit is " +
                                                   std::to_string(kMaxTopicNameLength)};
  }
  if (name == "." || name == "..") {
    return Error{ErrorCode::kInvalidTopicName, "topic name cannot be \".\" or \"..\""};
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Error{ErrorCode::kInvalidTopicName,
                   "topic name may contain only ASCII letters, digits, '.', '_' and '-'"};
    }
  }
  return {};
}

Status validate_partition_count(int64_t partitions) {
  if (partitions < 1 || partitions > kMaxPartitions) {
    return Error{ErrorCode::kInvalidPartitions, "partitions must be between 1 and " +
                                                    std::to_string(kMaxPartitions) + ", got " +
                                                    std::to_string(partitions)};
  }
  return {};
}

Status validate_replication_factor(int64_t replication_factor, size_t available_brokers) {
  if (replication_factor < 1) {
    return Error{
        ErrorCode::kInvalidReplicationFactor,
        "replication factor must be at least 1, got " + std::to_string(replication_factor)};
  }
  if (static_cast<uint64_t>(replication_factor) > available_brokers) {
    return Error{ErrorCode::kNotEnoughBrokers,
                 "replication factor " + std::to_string(replication_factor) + " exceeds the " +
                     std::to_string(available_brokers) + " available brokers"};
  }
  return {};
}

namespace {

bool int_in(const std::string& s, int64_t lo, int64_t hi, int64_t* out) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

struct ShareIntConfig {
  const char* key;
  int64_t lo;
  int64_t hi;
};
constexpr ShareIntConfig kShareIntConfigs[] = {
    {"share.delivery.count.limit", 1, 100},
    {"share.record.lock.duration.ms", 100, 3600000},
    {"share.retry.backoff.ms", 0, 3600000},
    {"share.retry.backoff.max.ms", 0, 3600000},
    {"share.record.lock.partition.limit", 1, 10000},
};

Status share_config_error(const std::string& key, const std::string& why) {
  return Error{ErrorCode::kInvalidConfig, "config " + key + ": " + why};
}

}  // namespace

Status validate_share_configs(std::string_view topic,
                              const std::map<std::string, std::string>& configs) {
  std::map<std::string, int64_t> ints;
  for (const auto& [key, value] : configs) {
    if (key.rfind("share.", 0) != 0) continue;
    auto known = std::find_if(std::begin(kShareIntConfigs), std::end(kShareIntConfigs),
                              [&](const ShareIntConfig& c) { return key == c.key; });
    if (known != std::end(kShareIntConfigs)) {
      if (!int_in(value, known->lo, known->hi, &ints[key]))
        return share_config_error(key, "must be an integer in " + std::to_string(known->lo) + "-" +
                                           std::to_string(known->hi) + ", got '" + value + "'");
    } else if (key == "share.auto.offset.reset") {
      if (value != "latest" && value != "earliest")
        return share_config_error(key, "must be latest or earliest, got '" + value + "'");
    } else if (key == "share.dead.letter.topic") {
      if (Status s = validate_topic_name(value); !s)
        return share_config_error(key, s.error().message);
      if (value == topic) return share_config_error(key, "cannot be the topic itself");
    } else {
      return share_config_error(key, "unknown share-group config");
    }
  }
  auto base = ints.find("share.retry.backoff.ms");
  auto max = ints.find("share.retry.backoff.max.ms");
  if (base != ints.end() && max != ints.end() && max->second < base->second)
    return share_config_error("share.retry.backoff.max.ms", "is below share.retry.backoff.ms");
  return {};
}

Status validate_log_configs(const std::map<std::string, std::string>& configs) {
  static const ShareIntConfig kLogIntConfigs[] = {
      {"segment.bytes", 14, INT32_MAX},      {"segment.ms", 1, INT64_MAX},
      {"retention.ms", -1, INT64_MAX},       {"retention.bytes", -1, INT64_MAX},
      {"delete.retention.ms", 0, INT64_MAX}, {"min.compaction.lag.ms", 0, INT64_MAX},
      {"min.insync.replicas", 1, 32},
  };
  for (const auto& [key, value] : configs) {
    auto known = std::find_if(std::begin(kLogIntConfigs), std::end(kLogIntConfigs),
                              [&](const ShareIntConfig& c) { return key == c.key; });
    int64_t ignored = 0;
    if (known != std::end(kLogIntConfigs)) {
      if (!int_in(value, known->lo, known->hi, &ignored))
        return share_config_error(key, "must be an integer in " + std::to_string(known->lo) + "-" +
                                           std::to_string(known->hi) + ", got '" + value + "'");
    } else if (key == "cleanup.policy") {
      if (value != "delete" && value != "compact" && value != "compact,delete" &&
          value != "delete,compact")
        return share_config_error(key,
                                  "must be delete, compact or compact,delete, got '" + value + "'");
    } else if (key == "min.cleanable.dirty.ratio") {
      char* end = nullptr;
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || !end || *end != '\0' || !(v >= 0.0 && v <= 1.0))
        return share_config_error(key, "must be a number in 0-1, got '" + value + "'");
    }
  }
  return {};
}

Status validate_replica_list(const std::vector<BrokerId>& replicas) {
  if (replicas.empty()) return Error{ErrorCode::kInvalidRequest, "empty replica list"};
  std::vector<BrokerId> sorted = replicas;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.front().value < 0) return Error{ErrorCode::kInvalidRequest, "negative broker id"};
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Error{ErrorCode::kInvalidRequest, "duplicate broker in replica list"};
  }
  return {};
}

}  // namespace dmq::cluster
