#pragma once
// The member side of Kafka's "consumer" protocol type: the subscription a
// member sends in JoinGroup, the assignment the leader computes and sends in
// SyncGroup, and the two standard assignors every Kafka client offers
// ("range", "roundrobin"), so a DMQ member (an HTTP consumer instance) and a
// Kafka client in one group agree on who reads what whoever leads.
//
// Bytes are ConsumerProtocolSubscription v0 / ConsumerProtocolAssignment v0
// (readable by every client version; no user data). Pure; no I/O.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/protocol/msg_group.h"

namespace dmq::kafka {

// topic -> partitions, each list ascending.
using PartitionsByTopic = std::map<std::string, std::vector<int32_t>>;

std::string encode_consumer_subscription(const std::vector<std::string>& topics);
std::string encode_consumer_assignment(const PartitionsByTopic& partitions);

// Readers of any version (the fields read come first in every version); input
// is untrusted: nullopt when the bytes are not a subscription / assignment.
std::optional<std::vector<std::string>> decode_consumer_subscription(std::string_view bytes);
std::optional<PartitionsByTopic> decode_consumer_assignment(std::string_view bytes);

struct AssignorMember {
  std::string member_id;
  std::vector<std::string> topics;  // its subscription
};

// The assignment of every member (each gets an entry, maybe empty) by
// `protocol` ("range" or "roundrobin"; anything else is treated as "range").
// `partition_counts` names the partitions of each topic; topics absent from
// it are not assigned. Deterministic: members are ordered by member id, as
// Kafka's assignors do.
//   range:      per topic, its subscribers each get a contiguous block; the
//               first (count % subscribers) members get one more.
//   roundrobin: every (topic, partition) in order, dealt to the next member
//               subscribed to its topic.
std::map<std::string, PartitionsByTopic> assign_partitions(
    std::string_view protocol, const std::vector<AssignorMember>& members,
    const std::map<std::string, int32_t>& partition_counts);

// The group leader's half of SyncGroup: each JoinGroup member's assignment
// bytes by `protocol`, from the subscriptions in their metadata (a member
// whose subscription cannot be read gets nothing).
std::vector<std::pair<std::string, std::string>> leader_assignments(
    std::string_view protocol, const std::vector<JoinGroupResponse::Member>& members,
    const std::map<std::string, int32_t>& partition_counts);

}  // namespace dmq::kafka
