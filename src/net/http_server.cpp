#include "net/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/json_escape.h"
#include "common/log.h"

namespace dmq::net {
namespace {

// cpp-httplib only reports that bind failed; bind a probe socket the same way
// to learn why, so the operator gets the cause.
std::string probe_bind(const HostPort& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(address.host.c_str(), std::to_string(address.port).c_str(), &hints, &result);
  if (rc != 0) return gai_strerror(rc);
  std::string error = "cannot bind";
  int fd = socket(result->ai_family, result->ai_socktype, result->ai_protocol);
  if (fd >= 0) {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (bind(fd, result->ai_addr, result->ai_addrlen) != 0) {
      error = std::strerror(errno);
    } else if (listen(fd, 1) != 0) {
      error = std::strerror(errno);
    } else {
      error.clear();
    }
    close(fd);
  } else {
    error = std::strerror(errno);
  }
  freeaddrinfo(result);
  return error;
}

}  // namespace

std::optional<uint64_t> applied_index_of(const httplib::Response& response) {
  if (response.status < 200 || response.status >= 300) return std::nullopt;
  std::string text = response.get_header_value(kAppliedIndexHeader);
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

HttpResponse json_error(int status, const std::string& code, const std::string& message) {
  std::string body = "{\"error\":{\"code\":\"";
  append_json_escaped(body, code);
  body += "\",\"message\":\"";
  append_json_escaped(body, message);
  body += "\"}}";
  return HttpResponse{status, std::move(body)};
}

HttpServer::HttpServer(HostPort listen, size_t max_body_bytes, int worker_threads)
    : listen_(std::move(listen)), server_(std::make_unique<httplib::Server>()) {
  server_->set_payload_max_length(max_body_bytes);
  server_->new_task_queue = [worker_threads] { return new httplib::ThreadPool(worker_threads); };
  server_->set_keep_alive_max_count(1000);
  server_->set_read_timeout(30, 0);
  server_->set_write_timeout(30, 0);
  server_->set_tcp_nodelay(true);
  // cpp-httplib defaults to SO_REUSEPORT, which would let a second process
  // bind the same port silently; SO_REUSEADDR alone still allows a restart
  // while old connections linger in TIME_WAIT.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Called for any response with status >= 400 that a handler did not fill,
  // e.g. unknown paths and bodies over the size limit.
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    HttpResponse error;
    switch (res.status) {
      case 404:
        error = json_error(404, "not_found", "no such endpoint: " + req.method + " " + req.path);
        break;
      case 413:
        error = json_error(413, "payload_too_large", "request body is too large");
        break;
      case 400:
        error = json_error(400, "bad_request", "malformed HTTP request");
        break;
      default:
        error = json_error(res.status, "http_error", "HTTP error " + std::to_string(res.status));
    }
    write(error, res);
  });
  server_->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        LOG_ERROR("http") << req.method << " " << req.path << " failed: " << what;
        write(json_error(500, "internal_error", what), res);
      });
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::write(const HttpResponse& in, httplib::Response& out) {
  out.status = in.status;
  for (const auto& [name, value] : in.headers) out.set_header(name, value);
  out.set_content(in.body, in.content_type.c_str());
}

HttpResponse HttpServer::gated(const Handler& handler, const httplib::Request& req) const {
  if (gate_) {
    if (auto refusal = gate_(req)) return *refusal;
  }
  return handler(req);
}

void HttpServer::get(const std::string& pattern, Handler handler) {
  server_->Get(pattern, [this, handler](const httplib::Request& req, httplib::Response& res) {
    write(gated(handler, req), res);
  });
}

void HttpServer::post(const std::string& pattern, Handler handler) {
  server_->Post(pattern, [this, handler](const httplib::Request& req, httplib::Response& res) {
    write(gated(handler, req), res);
  });
}

void HttpServer::del(const std::string& pattern, Handler handler) {
  server_->Delete(pattern, [this, handler](const httplib::Request& req, httplib::Response& res) {
    write(gated(handler, req), res);
  });
}

std::string HttpServer::start() {
  std::string probe = probe_bind(listen_);
  if (!probe.empty()) return listen_.to_string() + ": " + probe;
  if (!server_->bind_to_port(listen_.host.c_str(), listen_.port)) {
    return listen_.to_string() + ": cannot bind";
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return {};
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace dmq::net
