#pragma once
// Finished spans as the body of an OTLP/HTTP export request with JSON
// encoding (opentelemetry-proto's ExportTraceServiceRequest, JSON mapping):
// ids as lowercase hex, times as decimal strings of Unix nanoseconds, enum
// values as integers. Pure.

#include <span>
#include <string>
#include <string_view>

#include "trace/span.h"

namespace dmq::trace {

struct Resource {
  std::string service_name = "dmq";
  std::string service_instance_id;  // the node id, so a collector tells nodes apart
};

std::string encode_otlp_json(std::span<const SpanData> spans, const Resource& resource);

}  // namespace dmq::trace
