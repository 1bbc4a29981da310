#include "group/consumer_protocol.h"

#include "kafka/protocol/consumer_assignor.h"

namespace dmq::group {

std::optional<std::vector<std::string>> decode_subscription_topics(std::string_view bytes) {
  return kafka::decode_consumer_subscription(bytes);
}

std::optional<std::vector<TopicPartition>> decode_assignment(std::string_view bytes) {
  auto decoded = kafka::decode_consumer_assignment(bytes);
  if (!decoded) return std::nullopt;
  std::vector<TopicPartition> out;
  for (const auto& [topic, partitions] : *decoded)
    for (int32_t p : partitions) out.push_back(TopicPartition{topic, p});
  return out;
}

}  // namespace dmq::group
