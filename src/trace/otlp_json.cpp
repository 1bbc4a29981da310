#include "trace/otlp_json.h"

#include "common/json_escape.h"

namespace dmq::trace {
namespace {

void append_string(std::string& out, std::string_view text) {
  out += '"';
  append_json_escaped(out, text);
  out += '"';
}

void append_attribute(std::string& out, std::string_view key, const AttributeValue& value) {
  out += "{\"key\":";
  append_string(out, key);
  out += ",\"value\":{";
  if (const auto* text = std::get_if<std::string>(&value)) {
    out += "\"stringValue\":";
    append_string(out, *text);
  } else {
    // int64 values are strings in OTLP/JSON (protobuf's JSON mapping).
    out += "\"intValue\":\"" + std::to_string(std::get<int64_t>(value)) + "\"";
  }
  out += "}}";
}

void append_span(std::string& out, const SpanData& span) {
  out += "{\"traceId\":\"" + hex(span.context.trace_id.data(), span.context.trace_id.size()) +
         "\",\"spanId\":\"" + hex(span.context.span_id.data(), span.context.span_id.size()) + "\"";
  if (span.parent)
    out += ",\"parentSpanId\":\"" + hex(span.parent->data(), span.parent->size()) + "\"";
  out += ",\"flags\":" + std::string(span.context.sampled ? "1" : "0");
  out += ",\"name\":";
  append_string(out, span.name);
  out += ",\"kind\":" + std::to_string(static_cast<int>(span.kind));
  out += ",\"startTimeUnixNano\":\"" + std::to_string(span.start_unix_ns) + "\"";
  out += ",\"endTimeUnixNano\":\"" + std::to_string(span.end_unix_ns) + "\"";
  out += ",\"attributes\":[";
  for (size_t i = 0; i < span.attributes.size(); ++i) {
    if (i > 0) out += ',';
    append_attribute(out, span.attributes[i].first, span.attributes[i].second);
  }
  out += "]";
  if (span.error) {
    // STATUS_CODE_ERROR = 2.
    out += ",\"status\":{\"code\":2,\"message\":";
    append_string(out, span.status_message);
    out += "}";
  }
  out += "}";
}

}  // namespace

std::string encode_otlp_json(std::span<const SpanData> spans, const Resource& resource) {
  std::string out = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  append_attribute(out, "service.name", resource.service_name);
  if (!resource.service_instance_id.empty()) {
    out += ',';
    append_attribute(out, "service.instance.id", resource.service_instance_id);
  }
  out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"dmq\"},\"spans\":[";
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) out += ',';
    append_span(out, spans[i]);
  }
  out += "]}]}]}";
  return out;
}

}  // namespace dmq::trace
