#include "client/connection.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "client/error.h"
#include "kafka/protocol/request.h"

namespace dmq::client {
namespace {

std::string describe(const HostPort& address) {
  return address.to_string();
}

// Waits until `fd` is ready for `events`; false on timeout. EINTR (SIGINT
// while a consumer waits) retries: the consumer's stop flag is checked
// between requests, and every request's wait is bounded anyway.
bool wait_ready(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  while (true) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

int connect_one(const addrinfo* ai, int timeout_ms) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return -1;
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  int error = 0;
  socklen_t len = sizeof(error);
  if (!wait_ready(fd, POLLOUT, timeout_ms) ||
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
    ::close(fd);
    errno = error != 0 ? error : ETIMEDOUT;
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), timeout_ms_(other.timeout_ms_), address_(other.address_) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    timeout_ms_ = other.timeout_ms_;
    address_ = other.address_;
  }
  return *this;
}

Connection::~Connection() {
  close();
}

void Connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Connection Connection::open(const HostPort& address, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::string port = std::to_string(address.port);
  int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    throw ClientError("cannot resolve " + describe(address) + ": " + ::gai_strerror(rc));
  }
  int fd = -1;
  for (const addrinfo* ai = list; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = connect_one(ai, timeout_ms);
  }
  int saved = errno;
  ::freeaddrinfo(list);
  if (fd < 0) {
    throw ClientError("cannot connect to " + describe(address) + ": " + std::strerror(saved));
  }
  Connection c;
  c.fd_ = fd;
  c.timeout_ms_ = timeout_ms;
  c.address_ = address;
  return c;
}

void Connection::send(const kafka::EncodedFrame& frame) {
  const std::string& bytes = frame.bytes;
  size_t sent = 0;
  while (sent < bytes.size()) {
    if (!wait_ready(fd_, POLLOUT, timeout_ms_)) {
      throw ClientError("timed out sending to " + describe(address_));
    }
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      throw ClientError("lost connection to " + describe(address_) + ": " + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
}

void Connection::read_exactly(char* out, size_t size) {
  size_t got = 0;
  while (got < size) {
    if (!wait_ready(fd_, POLLIN, timeout_ms_)) {
      throw ClientError("timed out waiting for " + describe(address_));
    }
    ssize_t n = ::recv(fd_, out + got, size - got, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n == 0) throw ClientError("connection closed by " + describe(address_));
    if (n < 0) {
      throw ClientError("lost connection to " + describe(address_) + ": " + std::strerror(errno));
    }
    got += static_cast<size_t>(n);
  }
}

std::string Connection::receive() {
  char prefix[4];
  read_exactly(prefix, sizeof(prefix));
  int32_t size = 0;
  if (kafka::read_frame_size(prefix, kafka::kMaxRequestFrameBytes, size) !=
      kafka::CodecError::kOk) {
    close();
    throw ClientError("bad frame size from " + describe(address_));
  }
  std::string frame(static_cast<size_t>(size), '\0');
  read_exactly(frame.data(), frame.size());
  return frame;
}

}  // namespace dmq::client
