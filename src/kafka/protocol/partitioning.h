#pragma once
// Where a keyed record goes, as Kafka's Java producer decides
// (BuiltInPartitioner): murmur2(key) mod partitions, so a key lands on the
// partition a Java client, librdkafka's murmur2_random or DMQ's own producers
// (the CLI, HTTP produce) would all pick. Pure.

#include <cstdint>
#include <string_view>

namespace dmq::kafka {

// Kafka's Utils.murmur2 (seed 0x9747b28c), as a signed 32-bit value.
int32_t murmur2(std::string_view data);

// Kafka's Utils.toPositive(murmur2(key)) % partitions. `partitions` > 0.
int32_t partition_for_key(std::string_view key, int32_t partitions);

}  // namespace dmq::kafka
