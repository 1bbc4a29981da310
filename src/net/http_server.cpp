#include "net/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/json_escape.h"
#include "common/log.h"
#include "trace/tracer.h"

namespace dmq::net {
namespace {

// A server span per REST call (OpenTelemetry's HTTP conventions), continuing
// the caller's trace when it sends a W3C traceparent. Node-to-node traffic
// (Raft heartbeats ten times a second, broker heartbeats) is traced only as
// part of a trace a caller started.
trace::Span start_request_span(const std::string& route, const httplib::Request& req) {
  if (!trace::tracer().enabled()) return {};
  std::optional<trace::SpanContext> parent;
  if (req.has_header("traceparent"))
    parent = trace::parse_traceparent(req.get_header_value("traceparent"));
  if (!parent && req.path.rfind("/internal/", 0) == 0) return {};
  trace::Span span =
      trace::tracer().start(req.method + " " + route, trace::SpanKind::kServer, parent);
  span.set("http.request.method", req.method);
  span.set("http.route", route);
  span.set("url.path", req.path);
  return span;
}

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

// Runs first in every TLS handshake: the connection takes the context that
// is current now (a SIGHUP may have replaced it since the last one).
int use_current_context(SSL* ssl, int* alert, void* arg) {
  auto* tls = static_cast<const HttpTls*>(arg);
  std::shared_ptr<ssl_ctx_st> ctx = tls->current();
  if (!ctx || SSL_set_SSL_CTX(ssl, ctx.get()) == nullptr) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

// httplib's SSLServer owns its SSL_CTX; it takes the option-given settings
// of the first context (versions, options, verify mode, ciphers), which a
// connection keeps when use_current_context swaps in the certificates.
bool configure_base_context(SSL_CTX& base, const HttpTls* tls) {
  std::shared_ptr<ssl_ctx_st> first = tls->current();
  if (!first) return false;
  SSL_CTX* ctx = first.get();
  SSL_CTX_set_min_proto_version(&base, SSL_CTX_get_min_proto_version(ctx));
  SSL_CTX_set_options(&base, SSL_CTX_get_options(ctx));
  SSL_CTX_set_verify(&base, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
  std::string tls12;
  std::string tls13;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; ciphers && i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    const std::string name = SSL_CIPHER_get_name(cipher);
    // TLS 1.3 suites are named TLS_*; OpenSSL sets them apart from the list.
    std::string& list = name.rfind("TLS_", 0) == 0 ? tls13 : tls12;
    if (!list.empty()) list += ':';
    list += name;
  }
  if (!tls12.empty() && SSL_CTX_set_cipher_list(&base, tls12.c_str()) != 1) return false;
  if (SSL_CTX_set_ciphersuites(&base, tls13.c_str()) != 1) return false;
  static constexpr unsigned char kSessionContext[] = "dmq-http";
  SSL_CTX_set_session_id_context(&base, kSessionContext, sizeof(kSessionContext) - 1);
  SSL_CTX_set_client_hello_cb(&base, use_current_context, const_cast<HttpTls*>(tls));
  return true;
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

HttpServer::HttpServer(HostPort listen, size_t max_body_bytes, int worker_threads, HttpTls tls)
    : listen_(std::move(listen)),
      https_(static_cast<bool>(tls.current)),
      tls_(std::make_unique<HttpTls>(std::move(tls))) {
  if (https_) {
    const HttpTls* t = tls_.get();
    server_ = std::make_unique<httplib::SSLServer>(
        [t](SSL_CTX& base) { return configure_base_context(base, t); });
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
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

void HttpServer::get(const std::string& pattern, Handler handler) {
  server_->Get(pattern,
               [this, pattern, handler](const httplib::Request& req, httplib::Response& res) {
                 write(dispatch(pattern, handler, req), res);
               });
}

void HttpServer::post(const std::string& pattern, Handler handler) {
  server_->Post(pattern,
                [this, pattern, handler](const httplib::Request& req, httplib::Response& res) {
                  write(dispatch(pattern, handler, req), res);
                });
}

void HttpServer::del(const std::string& pattern, Handler handler) {
  server_->Delete(pattern,
                  [this, pattern, handler](const httplib::Request& req, httplib::Response& res) {
                    write(dispatch(pattern, handler, req), res);
                  });
}

HttpResponse HttpServer::dispatch(const std::string& route, const Handler& handler,
                                  const httplib::Request& req) const {
  trace::Span span = start_request_span(route, req);
  const trace::ContextScope scope(span);
  HttpResponse response = guarded(handler, req);
  if (span.active()) {
    span.set("http.response.status_code", int64_t{response.status});
    if (response.status >= 500) span.fail("HTTP " + std::to_string(response.status));
  }
  return response;
}

HttpResponse HttpServer::guarded(const Handler& handler, const httplib::Request& req) const {
  if (internal_guard_ && req.path.rfind("/internal/", 0) == 0) {
    if (auto refused = internal_guard_(req)) return std::move(*refused);
  }
  if (gate_) {
    if (auto refusal = gate_(req)) return std::move(*refusal);
  }
  return handler(req);
}

std::string HttpServer::start() {
  if (!server_->is_valid()) return listen_.to_string() + ": the TLS context could not be set up";
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
