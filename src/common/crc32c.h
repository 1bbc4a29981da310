#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka
// record batches (magic 2). Uses the SSE4.2 crc32 instruction when the CPU has
// it (checked once at run time) and a slicing-by-8 table otherwise.
// Thread-safe; no allocation.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dmq {

// Extends `crc` (0 for a fresh checksum) over `size` bytes at `data`.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);

inline uint32_t crc32c(std::string_view bytes) {
  return crc32c_extend(0, bytes.data(), bytes.size());
}

// The portable path, exposed so tests can check it against the hardware path.
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t size);

}  // namespace dmq
