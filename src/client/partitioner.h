#pragma once
// Which partition a produced record goes to, as Kafka's Java producer decides
// (DefaultPartitioner / BuiltInPartitioner): a keyed record goes to
// murmur2(key) mod partitions, so the same key lands where a Java client would
// put it; unkeyed records stick to one partition per batch and move on round
// robin, which spreads load without splitting batches. Pure.

#include <cstdint>
#include <optional>
#include <string_view>

namespace dmq::client {

// Kafka's Utils.murmur2 (seed 0x9747b28c), as a signed 32-bit value.
int32_t murmur2(std::string_view data);

// Kafka's Utils.toPositive(murmur2(key)) % partitions. `partitions` > 0.
int32_t partition_for_key(std::string_view key, int32_t partitions);

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
