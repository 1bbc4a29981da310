// libFuzzer target: an old-format (magic 0/1) Produce message set through
// convert_message_set(), and a stored-batch range through down_convert().
// The first byte selects the path and options. On the produce path, if bit 1
// is set every top-level message CRC is fixed up first so the fuzzer reaches
// the checks after the CRC (attributes, key/value lengths, compressed
// wrappers). A converted batch must validate, and down-converting it must
// give back a message set that converts again.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "kafka/protocol/message_set.h"

using namespace dmq::kafka;

namespace {

void fix_crcs(std::string& set) {
  size_t pos = 0;
  while (pos + 16 <= set.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(set.data() + pos + 8);
    int64_t size = (int64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    if (size < 4 || static_cast<size_t>(size) > set.size() - pos - 12) return;
    const char* body = set.data() + pos + 16;
    uint32_t crc = static_cast<uint32_t>(
        ::crc32(0L, reinterpret_cast<const Bytef*>(body), static_cast<uInt>(size - 4)));
    for (int i = 0; i < 4; ++i) set[pos + 12 + i] = static_cast<char>(crc >> (24 - 8 * i));
    pos += 12 + static_cast<size_t>(size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int8_t magic = (mode & 4) ? 1 : 0;
  if (mode & 1) {
    // Fetch path on arbitrary "stored" bytes: must not crash, bounded output.
    DownConversion d = down_convert(input, magic, mode >> 4, 1 + (mode >> 3) * 64);
    (void)d;
    return 0;
  }
  if (mode & 2) fix_crcs(input);
  LegacyConversion c = convert_message_set(input, 1 << 20);
  if (c.error != BatchError::kOk) return 0;
  if (validate_record_set(c.batch, BatchLimits{}).error != BatchError::kOk) __builtin_trap();
  DownConversion d = down_convert(c.batch, magic, 0, SIZE_MAX);
  if (d.error != BatchError::kOk || d.messages != c.record_count) __builtin_trap();
  LegacyConversion again = convert_message_set(d.message_set, 1 << 20);
  if (again.error != BatchError::kOk || again.record_count != c.record_count) __builtin_trap();
  return 0;
}
