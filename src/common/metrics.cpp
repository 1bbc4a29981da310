#include "common/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "common/version.h"

namespace dmq::metrics {
namespace {

void atomic_add(std::atomic<double>& target, double delta) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + delta, std::memory_order_relaxed)) {
  }
}

std::string escape_label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="x",b="y"}` or empty; `extra` is appended (used for histogram `le`).
std::string label_text(const Labels& labels, const std::string& extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += key + "=\"" + escape_label_value(value) + "\"";
  }
  if (!extra.empty()) {
    if (!first) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  return buf;
}

}  // namespace

void Counter::inc(double delta) {
  assert(delta >= 0);
  atomic_add(value_, delta);
}

void Gauge::inc(double delta) {
  atomic_add(value_, delta);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  assert(std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()));
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) bucket_counts_[i] = 0;
}

void Histogram::observe(double value) {
  size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, value);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
  std::vector<uint64_t> out(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

std::vector<double> latency_buckets_seconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
}

Registry::Family& Registry::family(const std::string& name, const std::string& help, Type type) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  } else if (it->second.type != type) {
    throw std::logic_error("metric " + name + " registered twice with different types");
  }
  return it->second;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Type::kCounter).counters[label_text(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Type::kGauge).gauges[label_text(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               std::vector<double> upper_bounds, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Type::kHistogram).histograms[label_text(labels)];
  if (!slot) slot = std::make_unique<Histogram>(std::move(upper_bounds));
  return *slot;
}

void Registry::add_collector(std::function<void()> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::render() {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  // Collectors update gauges, which registers under the mutex: run them unlocked.
  for (auto& collect : collectors) collect();

  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    static const char* kTypeNames[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + " " + fam.help + "\n";
    out += "# TYPE " + name + " " + kTypeNames[static_cast<int>(fam.type)] + "\n";
    for (const auto& [labels, counter] : fam.counters) {
      out += name + labels + " " + format_number(counter->value()) + "\n";
    }
    for (const auto& [labels, gauge] : fam.gauges) {
      out += name + labels + " " + format_number(gauge->value()) + "\n";
    }
    for (const auto& [labels, histogram] : fam.histograms) {
      // Re-open the rendered label set to add `le`.
      std::string inner = labels.empty() ? "" : labels.substr(1, labels.size() - 2);
      std::string prefix = inner.empty() ? "{" : "{" + inner + ",";
      auto counts = histogram->cumulative_counts();
      const auto& bounds = histogram->upper_bounds();
      for (size_t i = 0; i < counts.size(); ++i) {
        double bound = i < bounds.size() ? bounds[i] : INFINITY;
        out += name + "_bucket" + prefix + "le=\"" + format_number(bound) + "\"} " +
               std::to_string(counts[i]) + "\n";
      }
      out += name + "_sum" + labels + " " + format_number(histogram->sum()) + "\n";
      out += name + "_count" + labels + " " + std::to_string(histogram->count()) + "\n";
    }
  }
  return out;
}

Registry& registry() {
  static Registry instance;
  return instance;
}

void register_process_metrics(Registry& reg) {
  auto start = std::chrono::steady_clock::now();
  auto start_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  reg.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch.")
      .set(start_unix);
  reg.gauge("dmq_build_info", "Build information; the value is always 1.", {{"version", kVersion}})
      .set(1);
  Gauge& uptime = reg.gauge("dmq_uptime_seconds", "Seconds since the process started.");
  Gauge& resident = reg.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  Gauge& fds = reg.gauge("process_open_fds", "Number of open file descriptors.");
  reg.add_collector([start, &uptime, &resident, &fds] {
    uptime.set(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      unsigned long size_pages = 0, resident_pages = 0;
      if (std::fscanf(f, "%lu %lu", &size_pages, &resident_pages) == 2) {
        resident.set(static_cast<double>(resident_pages) *
                     static_cast<double>(sysconf(_SC_PAGESIZE)));
      }
      std::fclose(f);
    }
    if (DIR* dir = opendir("/proc/self/fd")) {
      int count = 0;
      while (struct dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') ++count;
      }
      closedir(dir);
      fds.set(count - 1);  // minus the descriptor of `dir` itself
    }
  });
}

}  // namespace dmq::metrics
