#pragma once
// Segment recovery validates batches with CRC-32C; the implementation is
// shared with the Kafka codec (common/crc32c.h).

#include "common/crc32c.h"

namespace dmq::store {
using dmq::crc32c;
using dmq::crc32c_extend;
}  // namespace dmq::store
