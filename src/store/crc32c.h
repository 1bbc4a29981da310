#pragma once
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka
// record batches (magic v2). Software slicing-by-8; pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dmq::store {

// Extends `crc` (the value returned for the preceding bytes, 0 to start) over
// `data`. crc32c_extend(crc32c_extend(0, a), b) == crc32c(a + b).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);

inline uint32_t crc32c(std::string_view data) {
  return crc32c_extend(0, data.data(), data.size());
}

}  // namespace dmq::store
