#pragma once
// Tracing (OpenTelemetry): spans for the work a node does on a client's
// behalf — a Kafka produce and fetch, a REST call, a Raft commit — exported
// over OTLP/HTTP with JSON bodies to `--otel.exporter.otlp.endpoint`.
//
// Off by default; then `tracer().start()` returns an inactive Span whose
// every call is a no-op, so an instrumented path costs one branch. When on,
// a trace is sampled as OpenTelemetry's parentbased_traceidratio sampler
// does: a span with a remote parent (W3C `traceparent` on a REST request or
// in a Kafka record's headers) follows the parent's sampled flag, a root
// span is kept when its trace id falls under `--otel.traces.sampler.ratio`.
// Finished spans go to a bounded queue that a background thread exports in
// batches; when the queue is full a span is dropped (and counted), never
// waited for: tracing must not slow the path it watches.
//
// Threads: spans may be started and ended on any thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "trace/otlp_json.h"
#include "trace/span.h"

namespace dmq::trace {

class Exporter;

// Now, in Unix nanoseconds (span times are wall-clock, as OTLP's are).
int64_t now_unix_ns();

class Span {
 public:
  Span() = default;
  Span(Span&&) noexcept = default;
  Span& operator=(Span&& other) noexcept;
  ~Span() { end(); }

  bool active() const { return data_ != nullptr; }
  // The context a child span or an outgoing traceparent names; invalid when inactive.
  SpanContext context() const;

  void set(std::string key, std::string value);
  void set(std::string key, int64_t value);
  void fail(std::string message);
  // Ends the span now (or at `unix_ns`) and queues it for export; later calls do nothing.
  void end(int64_t unix_ns = 0);

 private:
  friend class Tracer;
  std::unique_ptr<SpanData> data_;
  std::shared_ptr<Exporter> exporter_;
};

struct TracerConfig {
  std::string endpoint;  // http(s)://host:port[/path]; without a path, /v1/traces
  double sampler_ratio = 1.0;
  Resource resource;
  size_t max_queued_spans = 2048;
  size_t max_export_batch = 512;
  std::chrono::milliseconds export_interval{1000};
};

class Tracer {
 public:
  // Starts exporting (once, at start-up); an empty endpoint keeps tracing off.
  void start_exporting(const TracerConfig& config);
  // Exports what is queued and stops the exporter thread.
  void stop();
  bool enabled() const { return exporter_ != nullptr; }

  // A root span, or the child of a remote parent (from a traceparent).
  Span start(std::string_view name, SpanKind kind,
             const std::optional<SpanContext>& remote_parent = std::nullopt,
             int64_t start_unix_ns = 0);
  // A child of a local span; inactive when the parent is.
  Span start_child(const Span& parent, std::string_view name, SpanKind kind = SpanKind::kInternal,
                   int64_t start_unix_ns = 0);

 private:
  Span make(std::string_view name, SpanKind kind, const SpanContext& context,
            std::optional<SpanId> parent, int64_t start_unix_ns);

  double ratio_ = 1.0;
  std::shared_ptr<Exporter> exporter_;
};

// The process's tracer (configured by the node at start-up).
Tracer& tracer();

// The span the calling thread is working for, set by a ContextScope, so work
// it hands to another thread (a Raft proposal from a REST call) can name it as
// its parent. nullopt when there is none or it is not sampled.
std::optional<SpanContext> current_context();

class ContextScope {
 public:
  explicit ContextScope(const Span& span);
  ~ContextScope();
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  std::optional<SpanContext> previous_;
};

}  // namespace dmq::trace
