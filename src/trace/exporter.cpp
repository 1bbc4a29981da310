#include "trace/exporter.h"

#include <httplib.h>

#include <vector>

#include "common/log.h"
#include "common/metrics.h"

namespace dmq::trace {
namespace {

struct ExportMetrics {
  metrics::Counter& exported;
  metrics::Counter& dropped;
  metrics::Counter& failed;
};

ExportMetrics& export_metrics() {
  auto& r = metrics::registry();
  static ExportMetrics m{
      r.counter("dmq_trace_spans_exported_total", "Spans the OTLP endpoint accepted"),
      r.counter("dmq_trace_spans_dropped_total", "Spans dropped because the export queue was full"),
      r.counter("dmq_trace_spans_failed_total",
                "Spans lost because the OTLP endpoint refused them or could not be reached")};
  return m;
}

// "http://collector:4318" -> ("http://collector:4318", "/v1/traces"); an
// endpoint with a path is used as it is (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
std::pair<std::string, std::string> split_endpoint(const std::string& endpoint) {
  const auto scheme_end = endpoint.find("://");
  const auto path_start = endpoint.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (path_start == std::string::npos) return {endpoint, "/v1/traces"};
  return {endpoint.substr(0, path_start), endpoint.substr(path_start)};
}

}  // namespace

Exporter::Exporter(const TracerConfig& config) : config_(config) {
  std::tie(scheme_host_port_, path_) = split_endpoint(config.endpoint);
  export_metrics();
  thread_ = std::thread([this] { run(); });
}

Exporter::~Exporter() {
  stop();
}

void Exporter::enqueue(SpanData span) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() >= config_.max_queued_spans || stopping_) {
      export_metrics().dropped.inc();
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() < config_.max_export_batch) return;
  }
  wake_.notify_one();
}

void Exporter::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Exporter::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, config_.export_interval,
                   [&] { return stopping_ || queue_.size() >= config_.max_export_batch; });
    while (!queue_.empty()) {
      const size_t n = std::min(queue_.size(), config_.max_export_batch);
      std::vector<SpanData> batch(std::make_move_iterator(queue_.begin()),
                                  std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
      lock.unlock();
      post(encode_otlp_json(batch, config_.resource), n);
      lock.lock();
      if (!stopping_ && queue_.size() < config_.max_export_batch) break;
    }
    if (stopping_ && queue_.empty()) return;
  }
}

void Exporter::post(const std::string& body, size_t spans) {
  httplib::Client client(scheme_host_port_);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  client.set_write_timeout(std::chrono::seconds(5));
  auto result = client.Post(path_, body, "application/json");
  if (result && result->status >= 200 && result->status < 300) {
    export_metrics().exported.inc(static_cast<double>(spans));
    return;
  }
  export_metrics().failed.inc(static_cast<double>(spans));
  // The endpoint, never a span's content: attributes may name topics and groups.
  LOG_WARN("trace") << "OTLP export of " << spans << " spans to " << scheme_host_port_ << path_
                    << " failed: "
                    << (result ? "HTTP " + std::to_string(result->status)
                               : httplib::to_string(result.error()));
}

}  // namespace dmq::trace
