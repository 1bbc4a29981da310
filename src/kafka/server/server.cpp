#include "kafka/server/server.h"

#include "common/log.h"
#include "kafka/server/connection_limits.h"

namespace dmq::kafka {

Server::Server(asio::io_context& io, HandlerContext& ctx, std::chrono::milliseconds max_idle)
    : io_(io),
      ctx_(ctx),
      default_endpoint_{
          security::Listener{"PLAINTEXT", security::SecurityProtocol::kPlaintext,
                             ctx.options.kafka_listen.host, ctx.options.kafka_listen.port},
          ctx.options.advertised_kafka},
      endpoint_(default_endpoint_),
      max_idle_(max_idle),
      acceptor_(io),
      reaper_(io) {}

Server::Server(asio::io_context& io, HandlerContext& ctx, const ListenerEndpoint& endpoint,
               std::chrono::milliseconds max_idle)
    : io_(io), ctx_(ctx), endpoint_(endpoint), max_idle_(max_idle), acceptor_(io), reaper_(io) {}

Server::~Server() {
  *alive_ = false;
  stop();
}

std::string Server::start(const HostPort& address) {
  asio::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    // A host name: resolve it once, synchronously (start-up only).
    asio::ip::tcp::resolver resolver(io_);
    auto results = resolver.resolve(address.host, std::to_string(address.port), ec);
    if (ec || results.empty()) return address.to_string() + ": " + ec.message();
    ip = results.begin()->endpoint().address();
  }
  asio::ip::tcp::endpoint endpoint(ip, address.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    return address.to_string() + ": " + ec.message();
  }
  port_ = acceptor_.local_endpoint(ec).port();
  accept();
  schedule_reaper();
  return "";
}

void Server::stop() {
  if (stopped_) return;
  stopped_ = true;
  asio::error_code ec;
  acceptor_.close(ec);
  reaper_.cancel();
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto& [id, c] : connections) c->close();
}

void Server::accept() {
  acceptor_.async_accept(
      [this, alive = alive_](const asio::error_code& ec, asio::ip::tcp::socket socket) {
        if (!*alive || stopped_) return;
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          // EMFILE and friends: keep the listener, try again.
          LOG_WARN("kafka") << "accept failed: " << ec.message();
          accept();
          return;
        }
        std::string ip;
        if (!admit_connection(socket, ip)) {
          accept();
          return;
        }
        uint64_t id = next_id_++;
        auto& metrics = server_metrics();
        metrics.connections_accepted.inc();
        metrics.connections_open.inc();
        auto conn = std::make_shared<Connection>(
            std::move(socket), id, ctx_, metrics, endpoint_,
            [this, alive, ip, limits = ctx_.connection_limits](uint64_t closed_id) {
              server_metrics().connections_open.dec();
              // The limits belong to the Service and outlive every Server.
              if (limits) limits->release(ip);
              if (*alive) connections_.erase(closed_id);
            });
        connections_.emplace(id, conn);
        conn->start();
        accept();
      });
}

bool Server::admit_connection(asio::ip::tcp::socket& socket, std::string& ip) {
  asio::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec) return false;  // already gone
  ip = peer.address().to_string();
  if (!ctx_.connection_limits) return true;
  auto verdict = ctx_.connection_limits->admit(ip);
  if (verdict == ConnectionLimits::Verdict::kAdmitted) return true;
  // Kafka closes a connection over max.connections(.per.ip) right after
  // accepting it; the client retries after its reconnect backoff.
  const bool per_ip = verdict == ConnectionLimits::Verdict::kOverPerIp;
  (per_ip ? server_metrics().connections_refused_per_ip
          : server_metrics().connections_refused_total)
      .inc();
  LOG_DEBUG("kafka") << "closing a new connection from " << ip << ": "
                     << (per_ip ? "max.connections.per.ip" : "max.connections") << " reached";
  socket.close(ec);
  return false;
}

void Server::schedule_reaper() {
  auto period = std::min<std::chrono::milliseconds>(max_idle_ / 2 + std::chrono::milliseconds(1),
                                                    std::chrono::seconds(30));
  reaper_.expires_after(period);
  reaper_.async_wait([this, alive = alive_](const asio::error_code& ec) {
    if (ec || !*alive || stopped_) return;
    auto cutoff = std::chrono::steady_clock::now() - max_idle_;
    std::vector<std::shared_ptr<Connection>> idle;
    for (auto& [id, c] : connections_)
      if (c->idle_since(cutoff)) idle.push_back(c);
    for (auto& c : idle) c->close();
    schedule_reaper();
  });
}

}  // namespace dmq::kafka
