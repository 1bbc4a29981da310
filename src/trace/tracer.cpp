#include "trace/tracer.h"

#include <algorithm>
#include <random>

#include "trace/exporter.h"

namespace dmq::trace {
namespace {

template <size_t N>
std::array<uint8_t, N> random_id() {
  // Per thread: no lock on the paths that start spans.
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::array<uint8_t, N> id{};
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t word = engine();
      for (size_t j = 0; j < 8 && i + j < N; ++j) id[i + j] = static_cast<uint8_t>(word >> (8 * j));
    }
  } while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; }));
  return id;
}

// OpenTelemetry's TraceIdRatioBased: the trace id's low 8 bytes (big-endian)
// under ratio * 2^64, so every node of a trace decides alike.
bool ratio_keeps(const TraceId& id, double ratio) {
  if (ratio >= 1.0) return true;
  if (ratio <= 0.0) return false;
  uint64_t low = 0;
  for (size_t i = 8; i < 16; ++i) low = low << 8 | id[i];
  return static_cast<double>(low) < ratio * 18446744073709551616.0;
}

}  // namespace

int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    end();
    data_ = std::move(other.data_);
    exporter_ = std::move(other.exporter_);
  }
  return *this;
}

SpanContext Span::context() const {
  return data_ ? data_->context : SpanContext{};
}

void Span::set(std::string key, std::string value) {
  if (data_) data_->attributes.emplace_back(std::move(key), std::move(value));
}

void Span::set(std::string key, int64_t value) {
  if (data_) data_->attributes.emplace_back(std::move(key), value);
}

void Span::fail(std::string message) {
  if (!data_) return;
  data_->error = true;
  data_->status_message = std::move(message);
}

void Span::end(int64_t unix_ns) {
  if (!data_) return;
  data_->end_unix_ns = unix_ns > 0 ? unix_ns : now_unix_ns();
  if (exporter_) exporter_->enqueue(std::move(*data_));
  data_.reset();
  exporter_.reset();
}

void Tracer::start_exporting(const TracerConfig& config) {
  if (config.endpoint.empty() || exporter_) return;
  ratio_ = config.sampler_ratio;
  exporter_ = std::make_shared<Exporter>(config);
}

void Tracer::stop() {
  if (exporter_) exporter_->stop();
}

Span Tracer::start(std::string_view name, SpanKind kind,
                   const std::optional<SpanContext>& remote_parent, int64_t start_unix_ns) {
  if (!exporter_) return {};
  SpanContext context;
  std::optional<SpanId> parent;
  if (remote_parent && remote_parent->valid()) {
    if (!remote_parent->sampled) return {};
    context.trace_id = remote_parent->trace_id;
    parent = remote_parent->span_id;
  } else {
    context.trace_id = random_id<16>();
    if (!ratio_keeps(context.trace_id, ratio_)) return {};
  }
  context.sampled = true;
  return make(name, kind, context, parent, start_unix_ns);
}

Span Tracer::start_child(const Span& parent, std::string_view name, SpanKind kind,
                         int64_t start_unix_ns) {
  if (!parent.active() || !exporter_) return {};
  SpanContext context = parent.context();
  const SpanId parent_id = context.span_id;
  return make(name, kind, context, parent_id, start_unix_ns);
}

Span Tracer::make(std::string_view name, SpanKind kind, const SpanContext& context,
                  std::optional<SpanId> parent, int64_t start_unix_ns) {
  Span span;
  span.data_ = std::make_unique<SpanData>();
  span.data_->context = context;
  span.data_->context.span_id = random_id<8>();
  span.data_->parent = parent;
  span.data_->name = std::string(name);
  span.data_->kind = kind;
  span.data_->start_unix_ns = start_unix_ns > 0 ? start_unix_ns : now_unix_ns();
  span.exporter_ = exporter_;
  return span;
}

Tracer& tracer() {
  static Tracer instance;
  return instance;
}

namespace {
thread_local std::optional<SpanContext> current;
}  // namespace

std::optional<SpanContext> current_context() {
  return current;
}

ContextScope::ContextScope(const Span& span) : previous_(current) {
  if (span.active()) current = span.context();
}

ContextScope::~ContextScope() {
  current = previous_;
}

}  // namespace dmq::trace
