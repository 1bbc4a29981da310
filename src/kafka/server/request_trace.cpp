#include "kafka/server/request_trace.h"

#include <string>

#include "kafka/protocol/record_walk.h"

namespace dmq::kafka {

int64_t unix_ns_at(std::chrono::steady_clock::time_point when) {
  const auto age = std::chrono::steady_clock::now() - when;
  return trace::now_unix_ns() - std::chrono::duration_cast<std::chrono::nanoseconds>(age).count();
}

trace::Span start_request_span(const Exchange& ex, std::string_view name, int64_t start_unix_ns,
                               const std::optional<trace::SpanContext>& parent) {
  if (!trace::tracer().enabled()) return {};
  trace::Span span = trace::tracer().start(name, trace::SpanKind::kServer, parent, start_unix_ns);
  if (!span.active()) return span;
  span.set("messaging.system", std::string("kafka"));
  span.set("kafka.api_version", int64_t{ex.request.header.api_version});
  if (ex.request.header.client_id) {
    span.set("messaging.client.id", std::string(*ex.request.header.client_id));
  }
  span.set("client.address", ex.client_host);
  return span;
}

std::optional<trace::SpanContext> traceparent_in_records(std::string_view records) {
  BatchHeader header;
  if (read_batch_header(records, header) != BatchError::kOk ||
      header.compression() != Compression::kNone)
    return std::nullopt;
  std::optional<trace::SpanContext> found;
  walk_records(records, 0, [&](const RecordInLog& r) {
    for (const auto& h : r.record.headers) {
      if (h.key == "traceparent" && h.value) found = trace::parse_traceparent(*h.value);
    }
    return false;  // the first record only
  });
  return found;
}

void record_child(const trace::Span& parent, std::string_view name, int64_t start_unix_ns,
                  int64_t end_unix_ns, std::string_view partition) {
  if (!parent.active() || start_unix_ns <= 0 || end_unix_ns < start_unix_ns) return;
  trace::Span child =
      trace::tracer().start_child(parent, name, trace::SpanKind::kInternal, start_unix_ns);
  if (!partition.empty()) child.set("messaging.destination.partition", std::string(partition));
  child.end(end_unix_ns);
}

}  // namespace dmq::kafka
