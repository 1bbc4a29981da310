#pragma once
// Metadata records: what the controllers' Raft log carries (KIP-631 style).
//
// One Raft entry holds a RecordBatch: one or more records that the state
// machine applies atomically, in one LMDB write transaction. A batch is how a
// decision that touches several objects becomes one committed step: fencing a
// broker is [FenceBroker, PartitionChange...] so no node ever observes a fenced
// broker that still leads a partition. If any record of a batch is invalid at
// apply time, none of the batch is applied (see metadata_state.h).
//
// Encoding (record_format.h has the byte layout): compact, big-endian,
// versioned per batch and per record. decode_batch never trusts its input:
// malformed bytes give ErrorCode::kMalformedRecord, never a crash.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cluster/error.h"
#include "cluster/types.h"
#include "quota/quota.h"

namespace dmq::cluster {

// Does nothing; proposed by a new controller leader to commit its term (Raft §8).
struct NoOpRecord {
  bool operator==(const NoOpRecord&) const = default;
};

// A broker registration. Its broker epoch is the Raft index of this record.
// The registration starts fenced; an UnfenceBroker follows once it heartbeats.
struct RegisterBrokerRecord {
  BrokerId broker_id;
  std::string incarnation_id;  // uuid chosen by the broker process at start-up
  std::string kafka_host;
  uint16_t kafka_port = 0;
  std::string http_host;
  uint16_t http_port = 0;
  std::string rack;  // empty: no rack
  // Every advertised listener; empty in a record written before they were
  // registered (then kafka_host/kafka_port, the first listener, is all).
  std::vector<BrokerListener> listeners;
  bool operator==(const RegisterBrokerRecord&) const = default;
};

struct FenceBrokerRecord {
  BrokerId broker_id;
  BrokerEpoch epoch;
  bool operator==(const FenceBrokerRecord&) const = default;
};

struct UnfenceBrokerRecord {
  BrokerId broker_id;
  BrokerEpoch epoch;
  bool operator==(const UnfenceBrokerRecord&) const = default;
};

struct UnregisterBrokerRecord {
  BrokerId broker_id;
  BrokerEpoch epoch;
  bool operator==(const UnregisterBrokerRecord&) const = default;
};

// The replicas of one new partition; the first is the preferred leader.
struct PartitionAssignment {
  std::vector<BrokerId> replicas;
  bool operator==(const PartitionAssignment&) const = default;
};

using ConfigMap = std::map<std::string, std::string>;

// Partitions are numbered from 0 in order. At apply time the ISR of each
// partition is its registered, unfenced replicas and the leader the first of
// them (or kNoLeader), as KRaft does.
struct CreateTopicRecord {
  std::string name;
  std::string topic_id;  // uuid
  std::vector<PartitionAssignment> partitions;
  ConfigMap configs;
  bool operator==(const CreateTopicRecord&) const = default;
};

// The id guards against deleting a topic re-created under the same name.
struct DeleteTopicRecord {
  std::string name;
  std::string topic_id;
  bool operator==(const DeleteTopicRecord&) const = default;
};

// Appends partitions numbered from the topic's current count (KIP-195).
struct CreatePartitionsRecord {
  std::string name;
  std::string topic_id;
  std::vector<PartitionAssignment> partitions;
  bool operator==(const CreatePartitionsRecord&) const = default;
};

// A change of one partition's leader and/or ISR (KIP-631 PartitionChangeRecord).
// Applies only if the partition epoch is still `expected_partition_epoch`, so a
// change computed from an old state is dropped rather than undoing a newer one
// (the same check AlterPartition uses, KIP-497). Applying bumps the partition
// epoch; the leader epoch is bumped only when the leader changes. A broker
// the change adds to the ISR must be unfenced when it applies (KIP-841).
struct PartitionChangeRecord {
  std::string topic;
  PartitionId partition;
  PartitionEpoch expected_partition_epoch;
  std::optional<BrokerId> leader;  // kNoLeader takes the partition offline
  std::optional<std::vector<BrokerId>> isr;
  // Reassignment (KIP-455): a new replica list with the replicas being added
  // and removed (both empty when the list is final). Absent: unchanged. The
  // ISR after the change must be a subset of the new replicas.
  // (Initialized here so the many {topic, partition, epoch, leader, isr}
  // initializations of plain changes stay as they are.)
  std::optional<std::vector<BrokerId>> replicas = std::nullopt;
  std::vector<BrokerId> adding_replicas = {};
  std::vector<BrokerId> removing_replicas = {};
  bool operator==(const PartitionChangeRecord&) const = default;
};

// Hands [next_block_start, next_block_start + kProducerIdBlockSize) to a
// broker (KIP-730). Applies only if next_block_start is the current next block,
// so two racing allocations never hand out the same block.
struct AllocateProducerIdsRecord {
  BrokerId broker_id;
  BrokerEpoch broker_epoch;
  ProducerId next_block_start;
  bool operator==(const AllocateProducerIdsRecord&) const = default;
};

enum class ConfigResource : uint8_t { kTopic = 1, kBroker = 2 };

// Sets (value present) or deletes (nullopt) config keys of a topic, or of a
// broker (resource name = the broker id in decimal; "" = cluster default).
struct ConfigChangeRecord {
  ConfigResource resource = ConfigResource::kTopic;
  std::string resource_name;
  std::map<std::string, std::optional<std::string>> changes;
  bool operator==(const ConfigChangeRecord&) const = default;
};

// Sets (credential present) or deletes a user's SCRAM credential for one
// mechanism (KIP-554's UserScramCredentialRecord). The credential is Kafka's
// text form "salt=..,stored_key=..,server_key=..,iterations=.." derived by
// the controller: the password itself is never in the log.
struct UserScramCredentialRecord {
  std::string user;
  std::string mechanism;  // "SCRAM-SHA-256" or "SCRAM-SHA-512"
  std::optional<std::string> credential;
  bool operator==(const UserScramCredentialRecord&) const = default;
};

// Adds or removes one ACL binding (KIP-11; KRaft's AccessControlEntryRecord
// and RemoveAccessControlEntryRecord). `binding` is security::encode_acl_binding's
// bytes, opaque here: the controller validates a binding before proposing it
// and every node decodes it into its authorizer (this pure state machine does
// not depend on src/security). Adding a binding that exists and removing one
// that does not are no-ops, as in Kafka.
struct AclRecord {
  std::string binding;
  bool remove = false;
  bool operator==(const AclRecord&) const = default;
};

// Sets (value present) or removes one client quota of one entity (KRaft's
// ClientQuotaRecord, KIP-546). The entity is a user and/or a client id, each
// a name or the default (quota/quota.h); the key is Kafka's
// producer_byte_rate, consumer_byte_rate or request_percentage. Validated
// again at apply; removing a quota that is not set is a no-op, as in Kafka.
struct ClientQuotaRecord {
  quota::Entity entity;
  std::string key;
  std::optional<double> value;
  bool operator==(const ClientQuotaRecord&) const = default;
};

using Record =
    std::variant<NoOpRecord, RegisterBrokerRecord, FenceBrokerRecord, UnfenceBrokerRecord,
                 UnregisterBrokerRecord, CreateTopicRecord, DeleteTopicRecord,
                 CreatePartitionsRecord, PartitionChangeRecord, AllocateProducerIdsRecord,
                 ConfigChangeRecord, UserScramCredentialRecord, AclRecord, ClientQuotaRecord>;
using RecordBatch = std::vector<Record>;

// Short name of the record type for logs, e.g. "PartitionChange".
std::string_view record_name(const Record& record);

// The payload of one Raft entry. Requires a non-empty batch.
std::string encode_batch(const RecordBatch& batch);
// kMalformedRecord for truncated or trailing bytes, unknown types or versions,
// out-of-range counts; the message names the problem.
Result<RecordBatch> decode_batch(std::string_view bytes);

}  // namespace dmq::cluster
