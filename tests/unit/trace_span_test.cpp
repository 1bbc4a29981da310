#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "trace/otlp_json.h"
#include "trace/span.h"
#include "trace/tracer.h"

using namespace dmq::trace;

TEST_CASE("traceparent: the W3C example parses and formats back") {
  const std::string header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto context = parse_traceparent(header);
  REQUIRE(context);
  CHECK(context->sampled);
  CHECK(context->trace_id[0] == 0x4b);
  CHECK(context->span_id[7] == 0xb7);
  CHECK(format_traceparent(*context) == header);
  auto unsampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  REQUIRE(unsampled);
  CHECK_FALSE(unsampled->sampled);
}

TEST_CASE("traceparent: malformed headers are refused") {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // no flags
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // v00 with more
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero span id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // uppercase
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
       }) {
    CHECK_MESSAGE(!parse_traceparent(bad), bad);
  }
  // A later version may carry more fields after a dash.
  CHECK(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
}

TEST_CASE("OTLP JSON: ids, times, kinds, attributes and status as the collector reads them") {
  SpanData span;
  span.context = *parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  span.parent = SpanId{1, 2, 3, 4, 5, 6, 7, 8};
  span.name = "kafka.produce \"quoted\"";
  span.kind = SpanKind::kServer;
  span.start_unix_ns = 1700000000000000001;
  span.end_unix_ns = 1700000000000000999;
  span.attributes = {{"topic", std::string("orders")}, {"acks", int64_t{-1}}};
  span.error = true;
  span.status_message = "NOT_ENOUGH_REPLICAS";
  Resource resource;
  resource.service_instance_id = "3";
  const std::string body = encode_otlp_json(std::span<const SpanData>(&span, 1), resource);

  rapidjson::Document doc;
  doc.Parse(body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  const auto& rs = doc["resourceSpans"][0];
  CHECK(std::string(rs["resource"]["attributes"][0]["value"]["stringValue"].GetString()) == "dmq");
  CHECK(std::string(rs["resource"]["attributes"][1]["value"]["stringValue"].GetString()) == "3");
  const auto& s = rs["scopeSpans"][0]["spans"][0];
  CHECK(std::string(s["traceId"].GetString()) == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(std::string(s["spanId"].GetString()) == "00f067aa0ba902b7");
  CHECK(std::string(s["parentSpanId"].GetString()) == "0102030405060708");
  CHECK(std::string(s["name"].GetString()) == "kafka.produce \"quoted\"");
  CHECK(s["kind"].GetInt() == 2);
  CHECK(std::string(s["startTimeUnixNano"].GetString()) == "1700000000000000001");
  CHECK(std::string(s["endTimeUnixNano"].GetString()) == "1700000000000000999");
  CHECK(std::string(s["attributes"][0]["value"]["stringValue"].GetString()) == "orders");
  CHECK(std::string(s["attributes"][1]["value"]["intValue"].GetString()) == "-1");
  CHECK(s["status"]["code"].GetInt() == 2);
}

TEST_CASE("a tracer without an endpoint starts only inactive spans") {
  Tracer off;
  CHECK_FALSE(off.enabled());
  Span span = off.start("x", SpanKind::kServer);
  CHECK_FALSE(span.active());
  span.set("k", std::string("v"));  // no-ops
  span.end();
  CHECK_FALSE(off.start_child(span, "y").active());
}

TEST_CASE("sampling: a remote parent's flag decides; ratio 0 keeps no root span") {
  Tracer tracer;
  TracerConfig config;
  config.endpoint = "http://127.0.0.1:1";  // never reached: nothing is ended below
  config.sampler_ratio = 0.0;
  tracer.start_exporting(config);
  CHECK_FALSE(tracer.start("root", SpanKind::kServer).active());
  auto sampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto unsampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  Span child = tracer.start("continued", SpanKind::kServer, sampled);
  REQUIRE(child.active());
  CHECK(child.context().trace_id == sampled->trace_id);
  CHECK(child.context().span_id != sampled->span_id);
  CHECK_FALSE(tracer.start("continued", SpanKind::kServer, unsampled).active());
  Span grandchild = tracer.start_child(child, "stage");
  CHECK(grandchild.active());
  CHECK(grandchild.context().trace_id == sampled->trace_id);
  {
    const ContextScope scope(child);
    REQUIRE(current_context());
    CHECK(current_context()->span_id == child.context().span_id);
  }
  CHECK_FALSE(current_context());
  tracer.stop();
}
