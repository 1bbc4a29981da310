#include "kafka/server/service.h"

#include "common/log.h"

namespace dmq::kafka {
namespace {

// Old consumers are few; two threads keep them from taking the machine's
// cores from the loop and the group commit.
constexpr size_t kDownConversionThreads = 2;

}  // namespace

Service::Service(asio::io_context& io, const Options& options, std::unique_ptr<Backend> backend,
                 broker::ControllerClient& controller)
    : options_(options),
      backend_(std::move(backend)),
      io_(io),
      request_budget_(io, options.queued_max_request_bytes),
      connection_limits_(options.max_connections, options.max_connections_per_ip,
                         options.max_connections_per_ip_overrides),
      quotas_(options),
      down_conversion_("dmq-downconvert", kDownConversionThreads, std::chrono::seconds(30)),
      ctx_{io, options, *backend_, controller, "dmq", {}, {}} {
  ctx_.down_conversion = &down_conversion_;
  ctx_.request_budget = &request_budget_;
  ctx_.connection_limits = &connection_limits_;
  ctx_.quotas = &quotas_;
}

Service::~Service() {
  stop();
}

std::string Service::start() {
  if (std::string e = build_server_security(io_, options_, security_); !e.empty()) {
    failed_on_configuration_ = true;
    return e;
  }
  if (std::string e = backend_->start(); !e.empty()) return e;
  ctx_.sasl = security_.sasl.get();
  ctx_.authorizer = security_.authorizer.get();
  for (auto& endpoint : security_.endpoints) {
    const auto& l = endpoint->listener;
    auto server = std::make_unique<Server>(io_, ctx_, *endpoint);
    if (std::string e = server->start(HostPort{l.host.empty() ? "0.0.0.0" : l.host, l.port});
        !e.empty()) {
      return e;
    }
    if (endpoint->advertised.port == 0) endpoint->advertised.port = server->port();
    LOG_INFO("kafka") << "serving the Kafka protocol on " << l.name << " ("
                      << security::security_protocol_name(l.protocol) << ") "
                      << (l.host.empty() ? "*" : l.host) << ":" << server->port()
                      << ", advertised as " << endpoint->advertised.to_string();
    servers_.push_back(std::move(server));
  }
  return "";
}

std::vector<cluster::BrokerListener> Service::advertised_listeners() const {
  std::vector<cluster::BrokerListener> out;
  for (const auto& e : security_.endpoints) {
    out.push_back(cluster::BrokerListener{
        e->listener.name, e->advertised.host, e->advertised.port,
        std::string(security::security_protocol_name(e->listener.protocol))});
  }
  return out;
}

std::string Service::reload_tls() {
  return kafka::reload_tls(security_);
}

void Service::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& server : servers_) server->stop();
  down_conversion_.stop();  // conversions under way finish; their answers find no connection
  backend_->stop();
}

}  // namespace dmq::kafka
