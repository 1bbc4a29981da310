#include "store/log_format.h"

#include <charconv>
#include <cstdio>

#include "common/crc32c.h"

namespace dmq::store::format {

void put_be64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xFF);
}

void put_be32(char* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xFF);
}

uint64_t get_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint32_t get_be32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::optional<BatchHeader> parse_batch_header(std::string_view bytes) {
  if (bytes.size() < batch_layout::kHeaderSize) return std::nullopt;
  const char* p = bytes.data();
  auto batch_length = static_cast<int32_t>(get_be32(p + batch_layout::kBatchLength));
  if (batch_length < static_cast<int32_t>(batch_layout::kHeaderSize - batch_layout::kLogOverhead)) {
    return std::nullopt;
  }
  if (static_cast<int8_t>(p[batch_layout::kMagic]) != batch_layout::kMagicV2) return std::nullopt;
  BatchHeader h;
  h.base_offset = Offset(static_cast<int64_t>(get_be64(p + batch_layout::kBaseOffset)));
  h.total_bytes = static_cast<uint32_t>(batch_length) + batch_layout::kLogOverhead;
  h.leader_epoch = static_cast<int32_t>(get_be32(p + batch_layout::kPartitionLeaderEpoch));
  h.crc = get_be32(p + batch_layout::kCrc);
  h.last_offset_delta = static_cast<int32_t>(get_be32(p + batch_layout::kLastOffsetDelta));
  h.max_timestamp_ms = static_cast<int64_t>(get_be64(p + batch_layout::kMaxTimestamp));
  if (h.last_offset_delta < 0) return std::nullopt;
  return h;
}

bool batch_crc_ok(std::string_view batch) {
  if (batch.size() < batch_layout::kHeaderSize) return false;
  uint32_t stored = get_be32(batch.data() + batch_layout::kCrc);
  return crc32c(batch.substr(batch_layout::kAttributes)) == stored;
}

int64_t batch_producer_id(std::string_view batch) {
  return static_cast<int64_t>(get_be64(batch.data() + batch_layout::kProducerId));
}

bool batch_is_control(std::string_view batch) {
  auto attributes =
      static_cast<int16_t>((static_cast<unsigned char>(batch[batch_layout::kAttributes]) << 8) |
                           static_cast<unsigned char>(batch[batch_layout::kAttributes + 1]));
  return (attributes & batch_layout::kControlBit) != 0;
}

int32_t batch_record_count(std::string_view batch) {
  return static_cast<int32_t>(get_be32(batch.data() + batch_layout::kRecordCount));
}

std::string empty_batch_like(std::string_view batch) {
  std::string out(batch.substr(0, batch_layout::kHeaderSize));
  put_be32(out.data() + batch_layout::kBatchLength,
           static_cast<uint32_t>(batch_layout::kHeaderSize - batch_layout::kLogOverhead));
  out[batch_layout::kAttributes + 1] =
      static_cast<char>(static_cast<unsigned char>(out[batch_layout::kAttributes + 1]) &
                        ~batch_layout::kCompressionMask);
  put_be32(out.data() + batch_layout::kRecordCount, 0);
  put_be32(out.data() + batch_layout::kCrc,
           crc32c(std::string_view(out).substr(batch_layout::kAttributes)));
  return out;
}

std::string segment_stem(Offset base_offset) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(base_offset.value));
  return buf;
}

std::optional<Offset> parse_segment_name(std::string_view name, std::string_view suffix) {
  if (name.size() != 20 + suffix.size() || name.substr(20) != suffix) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || ptr != name.data() + 20 || v < 0) return std::nullopt;
  return Offset(v);
}

std::string encode_partition_checkpoint(const PartitionCheckpoint& c) {
  return "dmq-partition-checkpoint 1\nhigh_watermark " + std::to_string(c.high_watermark.value) +
         "\nlog_start_offset " + std::to_string(c.log_start_offset.value) + "\nrecovery_point " +
         std::to_string(c.recovery_point.value) + "\n";
}

namespace {

// Reads "<key> <int>\n" from the front of `text`.
bool take_field(std::string_view& text, std::string_view key, int64_t* out) {
  if (text.substr(0, key.size()) != key || text.size() <= key.size() || text[key.size()] != ' ') {
    return false;
  }
  text.remove_prefix(key.size() + 1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec != std::errc() || ptr == text.data() + text.size() || *ptr != '\n' || *out < 0) {
    return false;
  }
  text.remove_prefix(static_cast<size_t>(ptr - text.data()) + 1);
  return true;
}

}  // namespace

std::optional<PartitionCheckpoint> decode_partition_checkpoint(std::string_view text) {
  constexpr std::string_view kHeader = "dmq-partition-checkpoint 1\n";
  if (text.substr(0, kHeader.size()) != kHeader) return std::nullopt;
  text.remove_prefix(kHeader.size());
  int64_t hw = 0, lso = 0, rp = 0;
  if (!take_field(text, "high_watermark", &hw) || !take_field(text, "log_start_offset", &lso) ||
      !take_field(text, "recovery_point", &rp) || !text.empty()) {
    return std::nullopt;
  }
  return PartitionCheckpoint{Offset(hw), Offset(lso), Offset(rp)};
}

}  // namespace dmq::store::format
