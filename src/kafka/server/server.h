#pragma once
// The Kafka TCP listener: accepts connections on the event loop, keeps a
// table of them, and reaps idle ones (connections.max.idle.ms, 10 minutes as
// in Kafka). Threads: the event loop only.

#include <asio.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/options.h"
#include "kafka/server/connection.h"
#include "kafka/server/listener.h"

namespace dmq::kafka {

class Server {
 public:
  // A PLAINTEXT listener advertised as --advertised-kafka.
  Server(asio::io_context& io, HandlerContext& ctx,
         std::chrono::milliseconds max_idle = std::chrono::minutes(10));
  // One listener of --listeners; `endpoint` must outlive the Server.
  Server(asio::io_context& io, HandlerContext& ctx, const ListenerEndpoint& endpoint,
         std::chrono::milliseconds max_idle = std::chrono::minutes(10));
  ~Server();
  // Binds and listens on `address`; "" or a one-line reason
  // ("127.0.0.1:9092: Address already in use").
  std::string start(const HostPort& address);
  // Closes the listener and every connection. Idempotent.
  void stop();
  uint16_t port() const { return port_; }
  size_t connection_count() const { return connections_.size(); }

 private:
  void accept();
  // Counts the new connection against max.connections(.per.ip); false when
  // it is over a limit (the socket is closed) or already gone.
  bool admit_connection(asio::ip::tcp::socket& socket, std::string& ip);
  void schedule_reaper();

  asio::io_context& io_;
  HandlerContext& ctx_;
  ListenerEndpoint default_endpoint_;
  const ListenerEndpoint& endpoint_;
  const std::chrono::milliseconds max_idle_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer reaper_;
  std::map<uint64_t, std::shared_ptr<Connection>> connections_;
  uint64_t next_id_ = 1;
  uint16_t port_ = 0;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dmq::kafka
