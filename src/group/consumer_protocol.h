#pragma once
// The opaque bytes of the "consumer" protocol type, read only for display
// and for OffsetDelete's "still subscribed" check (Kafka's
// ConsumerProtocolSubscription / ConsumerProtocolAssignment, any version: the
// fields read here come first in every version). Pure; input is untrusted.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "group/types.h"

namespace dmq::group {

// The subscribed topics; nullopt if the bytes are not a subscription.
std::optional<std::vector<std::string>> decode_subscription_topics(std::string_view bytes);
// The assigned partitions; nullopt if the bytes are not an assignment.
std::optional<std::vector<TopicPartition>> decode_assignment(std::string_view bytes);

}  // namespace dmq::group
