#pragma once
// Administrative writes a broker needs from the controller quorum (Kafka's
// CreateTopics, DeleteTopics, CreatePartitions, InitProducerId): sent to the
// controllers' REST API (DESIGN.md §3), which forwards them to the Raft
// leader. Calls never block the caller: the HTTP exchange runs on a worker
// thread and `done` is posted back to the event loop.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dmq::broker {

struct AdminResult {
  int http_status = 0;  // 0: no controller answered
  std::string code;     // "" on success, else the REST error code (e.g. "topic_exists")
  std::string message;
  std::string body;            // the JSON answer on success
  uint64_t applied_index = 0;  // the controller's applied index after a write, when it said
  bool ok() const { return code.empty() && http_status >= 200 && http_status < 300; }
};

struct TopicSpec {
  std::string name;
  int32_t partitions = -1;          // -1: num.partitions
  int16_t replication_factor = -1;  // -1: default.replication.factor
  std::map<std::string, std::string> configs;
};

// AlterPartition (KIP-497): a partition leader asks to change the ISR. The
// epochs are the ones the leader's metadata shows; the controller refuses a
// request built on an older state.
struct AlterPartitionSpec {
  int32_t broker_id = -1;
  int64_t broker_epoch = -1;
  std::string topic;
  int32_t partition = -1;
  int32_t leader_epoch = -1;
  int32_t partition_epoch = -1;
  std::vector<int32_t> isr;
};

// One partition's outcome of POST /v1/elect-leaders: result is "elected",
// "election_not_needed", "preferred_leader_not_available",
// "eligible_leaders_not_available" or "unknown_topic_or_partition".
struct ElectionRow {
  std::string topic;
  int32_t partition = 0;
  std::string result;
};

class ControllerClient {
 public:
  using Done = std::function<void(const AdminResult&)>;
  using ElectDone = std::function<void(const AdminResult&, const std::vector<ElectionRow>&)>;
  virtual ~ControllerClient() = default;
  virtual void create_topic(const TopicSpec& spec, bool validate_only, Done done) = 0;
  virtual void delete_topic(const std::string& name, Done done) = 0;
  // Grows the topic to `total_partitions`.
  virtual void create_partitions(const std::string& name, int32_t total_partitions,
                                 bool validate_only, Done done) = 0;
  // On success `body` is the committed partition state:
  // {"leader":1,"leader_epoch":3,"partition_epoch":7,"isr":[1,2]}. Errors:
  // code "stale_partition_epoch" (retry with fresh metadata), "not_leader",
  // "invalid_isr", "stale_broker_epoch", "unknown_topic", ...
  virtual void alter_partition(const AlterPartitionSpec& spec, Done done) {
    done({0, "unsupported", "alter_partition is not implemented by this client", ""});
  }
  // Sets (value) or deletes (nullopt) dynamic config keys of a topic
  // (ConfigChangeRecord). Errors: "unknown_topic", "invalid_config", ...
  virtual void alter_topic_configs(const std::string& topic,
                                   const std::map<std::string, std::optional<std::string>>& changes,
                                   bool validate_only, Done done) {
    done({0, "unsupported", "alter_topic_configs is not implemented by this client", ""});
  }
  // A block of producer ids for InitProducerId, committed through the
  // quorum (AllocateProducerIdsRecord). On success `body` is
  // {"first_producer_id":1000,"count":1000}.
  virtual void allocate_producer_ids(int32_t broker_id, int64_t broker_epoch, Done done) {
    done({0, "unsupported", "allocate_producer_ids is not implemented by this client", ""});
  }
  // Starts, replaces or cancels (the original replicas) a reassignment
  // (KIP-455). Errors: "unknown_topic", "unknown_partition",
  // "invalid_replica_assignment".
  virtual void reassign_partition(const std::string& topic, int32_t partition,
                                  const std::vector<int32_t>& replicas, Done done) {
    done({0, "unsupported", "reassign_partition is not implemented by this client", ""});
  }
  // ElectLeaders (KIP-460); `partitions` nullopt: every partition.
  virtual void elect_leaders(
      bool unclean, const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions,
      ElectDone done) {
    done({0, "unsupported", "elect_leaders is not implemented by this client", ""}, {});
  }
  // CreateAcls / DeleteAcls (KIP-11): POST /v1/acls with one binding's JSON
  // (security::acl_binding_to_json); DELETE /v1/acls?<query> with the filter
  // fields, answering {"deleted":[bindings]} in `body`.
  virtual void create_acl(const std::string& binding_json, Done done) {
    done({0, "unsupported", "create_acl is not implemented by this client", ""});
  }
  virtual void delete_acls(const std::string& filter_query, Done done) {
    done({0, "unsupported", "delete_acls is not implemented by this client", ""});
  }
  // AlterClientQuotas (KIP-546): POST /v1/quotas with one entity's ops
  // (quota::alteration_to_json). Errors: "invalid_request".
  virtual void alter_client_quotas(const std::string& body, Done done) {
    done({0, "unsupported", "alter_client_quotas is not implemented by this client", ""});
  }
  // AlterUserScramCredentials (KIP-554): POST /v1/scram-users with
  // {"name","mechanism","iterations","salt","salted_password"} (base64; the
  // body holds a password equivalent: never log it), DELETE
  // /v1/scram-users/{name}?mechanism=.
  virtual void upsert_scram_credential(const std::string& body, Done done) {
    done({0, "unsupported", "upsert_scram_credential is not implemented by this client", ""});
  }
  virtual void delete_scram_credential(const std::string& user, const std::string& mechanism,
                                       Done done) {
    done({0, "unsupported", "delete_scram_credential is not implemented by this client", ""});
  }
};

}  // namespace dmq::broker
