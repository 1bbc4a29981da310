#pragma once
// The in-memory image of cluster metadata: plain values, ordered containers
// (so iteration order, and therefore snapshot bytes, are deterministic).

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cluster/records.h"
#include "cluster/types.h"

namespace dmq::cluster {

struct BrokerRegistration {
  BrokerId id;
  std::string incarnation_id;
  std::string kafka_host;
  uint16_t kafka_port = 0;
  std::string http_host;
  uint16_t http_port = 0;
  std::string rack;
  BrokerEpoch epoch;
  bool fenced = true;
  std::vector<BrokerListener> listeners;  // empty: only kafka_host/kafka_port known
  bool operator==(const BrokerRegistration&) const = default;
};

struct PartitionState {
  PartitionId id;
  std::vector<BrokerId> replicas;  // replicas[0] is the preferred leader
  std::vector<BrokerId> isr;       // never empty; a subset of replicas
  BrokerId leader = kNoLeader;     // kNoLeader or a member of isr
  LeaderEpoch leader_epoch{0};
  PartitionEpoch partition_epoch{0};
  // An ongoing reassignment (KIP-455): replicas = target + the old ones not in
  // it; adding = target minus old, removing = old minus target. Both empty
  // when none is in progress.
  std::vector<BrokerId> adding_replicas;
  std::vector<BrokerId> removing_replicas;
  bool reassigning() const { return !adding_replicas.empty() || !removing_replicas.empty(); }
  bool operator==(const PartitionState&) const = default;
};

struct TopicState {
  std::string name;
  std::string topic_id;
  std::vector<PartitionState> partitions;  // partitions[i].id == i
  ConfigMap configs;
  bool operator==(const TopicState&) const = default;
};

struct MetadataImage {
  std::map<BrokerId, BrokerRegistration> brokers;
  std::map<std::string, TopicState, std::less<>> topics;  // by name
  ProducerId next_producer_id{0};                         // start of the next unallocated block
  std::map<std::string, ConfigMap> broker_configs;        // "" = cluster-wide default
  // SCRAM credentials: user -> mechanism ("SCRAM-SHA-512") -> Kafka's text form
  // "salt=..,stored_key=..,server_key=..,iterations=.." (never a password).
  std::map<std::string, std::map<std::string, std::string>, std::less<>> scram_credentials;
  // ACL bindings in security::encode_acl_binding's form (AclRecord).
  std::set<std::string, std::less<>> acls;
  // Client quotas (ClientQuotaRecord): entity -> key -> value.
  quota::QuotaTable client_quotas;
  bool operator==(const MetadataImage&) const = default;
};

}  // namespace dmq::cluster
