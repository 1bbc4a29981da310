#pragma once
// Which partition a produced record goes to, as Kafka's Java producer decides
// (DefaultPartitioner / BuiltInPartitioner): a keyed record goes to
// kafka::partition_for_key, so the same key lands where a Java client would
// put it; unkeyed records stick to one partition per batch and move on round
// robin, which spreads load without splitting batches. Pure.

#include <cstdint>
#include <optional>
#include <string_view>

#include "kafka/protocol/partitioning.h"

namespace dmq::client {

class Partitioner {
 public:
  // `fixed`: --partition, which overrides every choice.
  Partitioner(int32_t partitions, std::optional<int32_t> fixed, uint32_t start = 0)
      : partitions_(partitions),
        fixed_(fixed),
        sticky_(start % static_cast<uint32_t>(partitions)) {}

  int32_t choose(std::optional<std::string_view> key) const;
  // Called when a batch is full: the next unkeyed records go to the next partition.
  void next_batch() { sticky_ = (sticky_ + 1) % static_cast<uint32_t>(partitions_); }

 private:
  int32_t partitions_;
  std::optional<int32_t> fixed_;
  uint32_t sticky_;
};

}  // namespace dmq::client
