#pragma once
// Distinct value types for the identifiers and counters of cluster metadata,
// so a broker id cannot be passed where a leader epoch is expected.

#include <compare>
#include <cstdint>
#include <ostream>
#include <string>

#include "common/strong_id.h"
#include "raft/types.h"
#include "store/log_types.h"

namespace dmq::cluster {

// Node id of a broker (Kafka's broker.id / node.id). Valid ids are >= 0.
using BrokerId = StrongId<struct BrokerIdTag, int32_t>;
// Assigned by the controller at registration: the Raft index of the
// RegisterBroker record (KIP-631), so it grows with every registration.
using BrokerEpoch = StrongId<struct BrokerEpochTag, int64_t>;
// Bumped when a partition's leader changes (KIP-101 / KIP-279 fencing).
using LeaderEpoch = store::LeaderEpoch;
// Bumped on every change of a partition's leader, ISR or replicas (KIP-497).
using PartitionEpoch = StrongId<struct PartitionEpochTag, int32_t>;
using PartitionId = StrongId<struct PartitionIdTag, int32_t>;
// Index of an entry in the controllers' Raft log.
using LogIndex = raft::LogIndex;
using ProducerId = StrongId<struct ProducerIdTag, int64_t>;

// Leader value of a partition that has no live in-sync replica (offline).
inline constexpr BrokerId kNoLeader{-1};
// Size of the producer-id blocks handed to brokers (KIP-730 uses 1000).
inline constexpr int64_t kProducerIdBlockSize = 1000;

// One advertised Kafka listener of a broker (Kafka's BrokerRegistration
// endpoints): Metadata answered on listener NAME names other brokers by
// their listener NAME.
struct BrokerListener {
  std::string name;  // "PLAINTEXT", "SASL_SSL", "INTERNAL", ...
  std::string host;
  uint16_t port = 0;
  std::string security_protocol;  // PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
  bool operator==(const BrokerListener&) const = default;
};

}  // namespace dmq::cluster
