#include "kafka/protocol/partitioning.h"

namespace dmq::kafka {

int32_t murmur2(std::string_view data) {
  // Transcribed from org.apache.kafka.common.utils.Utils.murmur2; unsigned
  // arithmetic gives Java's wrap-around int behaviour without UB.
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto length = static_cast<uint32_t>(data.size());
  uint32_t h = seed ^ length;
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  uint32_t blocks = length / 4;
  for (uint32_t i = 0; i < blocks; ++i) {
    uint32_t k = bytes[i * 4] | (bytes[i * 4 + 1] << 8) | (bytes[i * 4 + 2] << 16) |
                 (static_cast<uint32_t>(bytes[i * 4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  uint32_t tail = length & ~3u;
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(bytes[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(bytes[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= bytes[tail];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(std::string_view key, int32_t partitions) {
  // toPositive masks the sign bit (it does not take the absolute value).
  auto positive = static_cast<uint32_t>(murmur2(key)) & 0x7fffffffu;
  return static_cast<int32_t>(positive % static_cast<uint32_t>(partitions));
}

}  // namespace dmq::kafka
