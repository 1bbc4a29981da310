#include "kafka/server/service.h"

#include "common/log.h"

namespace dmq::kafka {

Service::Service(asio::io_context& io, const Options& options, std::unique_ptr<Backend> backend,
                 broker::ControllerClient& controller)
    : options_(options),
      backend_(std::move(backend)),
      ctx_{io, options, *backend_, controller, "dmq", {}, {}},
      server_(io, ctx_) {}

Service::~Service() {
  stop();
}

std::string Service::start() {
  if (std::string e = backend_->start(); !e.empty()) return e;
  if (std::string e = server_.start(options_.kafka_listen); !e.empty()) return e;
  LOG_INFO("kafka") << "serving the Kafka protocol on " << options_.kafka_listen.host << ":"
                    << server_.port() << " (advertised as " << options_.advertised_kafka.to_string()
                    << ")";
  return "";
}

void Service::stop() {
  if (stopped_) return;
  stopped_ = true;
  server_.stop();
  backend_->stop();
}

}  // namespace dmq::kafka
