#include "trace/span.h"

#include <algorithm>

namespace dmq::trace {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // the spec allows lowercase only
}

template <size_t N>
bool parse_hex(std::string_view text, std::array<uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    const int high = hex_value(text[2 * i]);
    const int low = hex_value(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

template <size_t N>
bool all_zero(const std::array<uint8_t, N>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

bool SpanContext::valid() const {
  return !all_zero(trace_id) && !all_zero(span_id);
}

std::string hex(const uint8_t* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * size, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

std::optional<SpanContext> parse_traceparent(std::string_view header) {
  // version-traceid-parentid-flags, 2+1+32+1+16+1+2 = 55 characters; a later
  // version may append fields after another dash.
  if (header.size() < 55 || header[2] != '-' || header[35] != '-' || header[52] != '-')
    return std::nullopt;
  std::array<uint8_t, 1> version{};
  std::array<uint8_t, 1> flags{};
  SpanContext context;
  if (!parse_hex(header.substr(0, 2), version) || version[0] == 0xff) return std::nullopt;
  if (version[0] == 0 && header.size() != 55) return std::nullopt;
  if (version[0] != 0 && header.size() > 55 && header[55] != '-') return std::nullopt;
  if (!parse_hex(header.substr(3, 32), context.trace_id) ||
      !parse_hex(header.substr(36, 16), context.span_id) ||
      !parse_hex(header.substr(53, 2), flags) || !context.valid()) {
    return std::nullopt;
  }
  context.sampled = (flags[0] & 0x01) != 0;
  return context;
}

std::string format_traceparent(const SpanContext& context) {
  return "00-" + hex(context.trace_id.data(), context.trace_id.size()) + "-" +
         hex(context.span_id.data(), context.span_id.size()) + (context.sampled ? "-01" : "-00");
}

}  // namespace dmq::trace
