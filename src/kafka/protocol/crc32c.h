#pragma once
// Record batches are checksummed with CRC-32C; the implementation is shared
// with the partition log's recovery (common/crc32c.h).

#include "common/crc32c.h"

namespace dmq::kafka {
using dmq::crc32c;
using dmq::crc32c_extend;
using dmq::crc32c_extend_portable;
}  // namespace dmq::kafka
