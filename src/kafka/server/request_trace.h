#pragma once
// Private to the Kafka server: spans for Kafka requests (src/trace). A
// Produce or consumer Fetch becomes a server span from the moment its frame
// was read to its answer; a Produce continues the trace of a W3C
// `traceparent` header on the first record of its first uncompressed batch,
// so a client that stamps its records sees the broker's work in its trace.
// Replica fetches are not traced (followers fetch without pause).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "kafka/server/handlers.h"
#include "trace/tracer.h"

namespace dmq::kafka {

// A steady-clock instant as Unix nanoseconds (span times are wall-clock).
int64_t unix_ns_at(std::chrono::steady_clock::time_point when);

// The request's span (inactive when tracing is off or the trace unsampled),
// started at `start_unix_ns` (when its frame was read: unix_ns_at(ex.received)),
// with the client's id and address.
trace::Span start_request_span(const Exchange& ex, std::string_view name, int64_t start_unix_ns,
                               const std::optional<trace::SpanContext>& parent = std::nullopt);

// The traceparent of the first record of `records` when its first batch is
// uncompressed (a compressed batch is not inflated for this).
std::optional<trace::SpanContext> traceparent_in_records(std::string_view records);

// A finished child span of `parent` covering [start, end] (Unix ns); nothing
// when the parent is inactive or the interval unknown.
void record_child(const trace::Span& parent, std::string_view name, int64_t start_unix_ns,
                  int64_t end_unix_ns, std::string_view partition = {});

}  // namespace dmq::kafka
