#include <doctest/doctest.h>

#include <string>

#include "common/metrics.h"

TEST_CASE("counters, gauges and histograms render in Prometheus text format") {
  dmq::metrics::Registry registry;
  registry.counter("dmq_test_requests_total", "Requests.", {{"api", "produce"}}).inc(3);
  registry.counter("dmq_test_requests_total", "Requests.", {{"api", "fetch"}}).inc();
  registry.gauge("dmq_test_depth", "Depth.").set(-2.5);
  auto& h = registry.histogram("dmq_test_latency_seconds", "Latency.", {0.1, 1.0});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  std::string text = registry.render();
  CHECK(text.find("# TYPE dmq_test_requests_total counter\n") != std::string::npos);
  CHECK(text.find("dmq_test_requests_total{api=\"produce\"} 3\n") != std::string::npos);
  CHECK(text.find("dmq_test_requests_total{api=\"fetch\"} 1\n") != std::string::npos);
  CHECK(text.find("dmq_test_depth -2.5\n") != std::string::npos);
  CHECK(text.find("dmq_test_latency_seconds_bucket{le=\"0.1\"} 1\n") != std::string::npos);
  CHECK(text.find("dmq_test_latency_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("dmq_test_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("dmq_test_latency_seconds_count 3\n") != std::string::npos);
  CHECK(text.find("dmq_test_latency_seconds_sum 5.55\n") != std::string::npos);
}

TEST_CASE("the same name and labels return the same metric") {
  dmq::metrics::Registry registry;
  auto& a = registry.counter("c_total", "C.", {{"k", "v"}});
  auto& b = registry.counter("c_total", "C.", {{"k", "v"}});
  CHECK(&a == &b);
  CHECK_THROWS(registry.gauge("c_total", "C."));
}

TEST_CASE("label values are escaped") {
  dmq::metrics::Registry registry;
  registry.gauge("g", "G.", {{"path", "a\"b\\c"}}).set(1);
  CHECK(registry.render().find("g{path=\"a\\\"b\\\\c\"} 1") != std::string::npos);
}

TEST_CASE("process metrics are refreshed at render") {
  dmq::metrics::Registry registry;
  dmq::metrics::register_process_metrics(registry);
  std::string text = registry.render();
  CHECK(text.find("process_resident_memory_bytes ") != std::string::npos);
  CHECK(text.find("process_resident_memory_bytes 0\n") == std::string::npos);
  CHECK(text.find("process_open_fds ") != std::string::npos);
  CHECK(text.find("dmq_build_info{version=") != std::string::npos);
}
