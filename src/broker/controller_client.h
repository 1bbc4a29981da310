#pragma once
// Administrative writes a broker needs from the controller quorum (Kafka's
// CreateTopics, DeleteTopics, CreatePartitions, InitProducerId): sent to the
// controllers' REST API (DESIGN.md §3), which forwards them to the Raft
// leader. Calls never block the caller: the HTTP exchange runs on a worker
// thread and `done` is posted back to the event loop.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace dmq::broker {

struct AdminResult {
  int http_status = 0;  // 0: no controller answered
  std::string code;     // "" on success, else the REST error code (e.g. "topic_exists")
  std::string message;
  std::string body;  // the JSON answer on success
  bool ok() const { return code.empty() && http_status >= 200 && http_status < 300; }
};

struct TopicSpec {
  std::string name;
  int32_t partitions = -1;          // -1: num.partitions
  int16_t replication_factor = -1;  // -1: default.replication.factor
  std::map<std::string, std::string> configs;
};

class ControllerClient {
 public:
  using Done = std::function<void(const AdminResult&)>;
  virtual ~ControllerClient() = default;
  virtual void create_topic(const TopicSpec& spec, bool validate_only, Done done) = 0;
  virtual void delete_topic(const std::string& name, Done done) = 0;
  // Grows the topic to `total_partitions`.
  virtual void create_partitions(const std::string& name, int32_t total_partitions,
                                 bool validate_only, Done done) = 0;
};

}  // namespace dmq::broker
