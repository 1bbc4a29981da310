// libFuzzer target: a Produce records field through validate_record_set(),
// then the in-place rewrites, decompression and the record iterator. If the
// first byte is odd, every batch header's CRC is fixed up first, so the
// fuzzer also reaches the checks that follow a good CRC.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/crc32c.h"
#include "kafka/protocol/record_batch.h"

using namespace dmq::kafka;
namespace bf = dmq::batch_layout;

namespace {

void fix_crcs(std::string& set) {
  size_t pos = 0;
  while (pos + bf::kHeaderSize <= set.size()) {
    BatchHeader h;
    if (read_batch_header(std::string_view(set).substr(pos), h) != BatchError::kOk) return;
    if (h.batch_length < static_cast<int32_t>(bf::kHeaderSize - bf::kLogOverhead)) return;
    if (h.total_size() > set.size() - pos) return;
    uint32_t crc =
        dmq::crc32c_extend(0, set.data() + pos + bf::kAttributes, h.total_size() - bf::kAttributes);
    for (int i = 0; i < 4; ++i) set[pos + bf::kCrc + i] = static_cast<char>(crc >> (24 - 8 * i));
    pos += h.total_size();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bool fix = data[0] & 1;
  std::string set(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (fix) fix_crcs(set);
  (void)valid_prefix_length(set);
  BatchLimits limits;
  limits.single_batch = false;
  limits.allow_control = (data[0] & 2) != 0;
  RecordSetInfo info = validate_record_set(set, limits);
  if (info.error != BatchError::kOk) return 0;
  int64_t next = assign_offsets(set.data(), set.size(), 100, 1);
  if (next != 100 + info.record_count) __builtin_trap();
  if (validate_record_set(set, limits).error != BatchError::kOk) __builtin_trap();
  size_t pos = 0;
  while (pos < set.size()) {
    BatchHeader h;
    if (read_batch_header(std::string_view(set).substr(pos), h) != BatchError::kOk)
      __builtin_trap();
    std::string payload;
    if (decompress_records(std::string_view(set).substr(pos, h.total_size()), payload, 1 << 20) ==
        BatchError::kOk) {
      RecordIterator it(payload, h.record_count);
      Record r;
      while (it.next(r)) {
      }
    }
    pos += h.total_size();
  }
  return 0;
}
