#pragma once
// Private to the trace folder: the bounded queue of finished spans and the
// thread that posts them to the OTLP/HTTP endpoint.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "trace/tracer.h"

namespace dmq::trace {

class Exporter {
 public:
  explicit Exporter(const TracerConfig& config);
  ~Exporter();

  // Never blocks on the network: a full queue drops the span.
  void enqueue(SpanData span);
  // Sends what is queued, then joins the thread.
  void stop();

 private:
  void run();
  void post(const std::string& body, size_t spans);

  TracerConfig config_;
  std::string scheme_host_port_;
  std::string path_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<SpanData> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dmq::trace
