#pragma once
// One blocking TCP connection to a Kafka broker: whole frames out, whole frames
// in. Every wait is bounded by the timeout given at open(), so a dead broker
// gives a ClientError instead of a hang. Not thread-safe; the client commands
// are single-threaded.

#include <cstdint>
#include <string>

#include "common/options.h"
#include "kafka/protocol/io.h"

namespace dmq::client {

class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  ~Connection();

  // Connects with TCP_NODELAY; throws ClientError naming `address` on failure.
  static Connection open(const HostPort& address, int timeout_ms);

  bool is_open() const { return fd_ >= 0; }
  const HostPort& address() const { return address_; }

  // Writes a whole frame (size prefix included, no splices).
  void send(const kafka::EncodedFrame& frame);
  // Reads one whole frame and returns it without its size prefix.
  std::string receive();
  void close();

 private:
  void read_exactly(char* out, size_t size);

  int fd_ = -1;
  int timeout_ms_ = 0;
  HostPort address_;
};

}  // namespace dmq::client
