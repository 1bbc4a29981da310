#pragma once
// What a span is, independent of how it is started or exported: W3C trace
// context identifiers, the finished span's data, and the `traceparent` header
// (https://www.w3.org/TR/trace-context/) that carries a caller's context into
// DMQ on REST requests and Kafka record headers. Pure.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dmq::trace {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  bool sampled = false;
  bool valid() const;  // neither id is all zeros
};

// version "00" (and any later version, read as 00 per the spec's forward
// compatibility rule): "00-<32 hex>-<16 hex>-<2 hex flags>". nullopt for
// anything malformed, including all-zero ids.
std::optional<SpanContext> parse_traceparent(std::string_view header);
std::string format_traceparent(const SpanContext& context);

enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

using AttributeValue = std::variant<std::string, int64_t>;

struct SpanData {
  SpanContext context;
  std::optional<SpanId> parent;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  bool error = false;
  std::string status_message;  // set with error
};

std::string hex(const uint8_t* bytes, size_t size);

}  // namespace dmq::trace
