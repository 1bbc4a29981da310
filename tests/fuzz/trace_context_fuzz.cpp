// parse_traceparent on arbitrary bytes: never crashes, and whatever it accepts
// formats back to a header it accepts again with the same ids and flag.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "trace/span.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  auto context = dmq::trace::parse_traceparent(header);
  if (!context) return 0;
  auto again = dmq::trace::parse_traceparent(dmq::trace::format_traceparent(*context));
  if (!again || again->trace_id != context->trace_id || again->span_id != context->span_id ||
      again->sampled != context->sampled) {
    std::abort();
  }
  return 0;
}
