#include "net/http_server.h"

#include <httplib.h>
#include <openssl/ssl.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <charconv>
#include <regex>

#include "common/json_escape.h"
#include "common/log.h"
#include "common/metrics.h"
#include "net/http_request_head.h"
#include "net/worker_pool.h"
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

// The server's SSL_CTX (asio's ssl::context) takes the option-given settings
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

namespace {

using asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;
using std::chrono::milliseconds;

// A head larger than this (request line and header fields) gets a 431.
constexpr size_t kMaxHeadBytes = 16 * 1024;
// A client that does not read its response within this loses the connection.
constexpr milliseconds kWriteTimeout{30000};
// A connection over http.max.connections may send one request head in this
// time (it is answered 503, or served if it is a cluster peer's).
constexpr milliseconds kOverLimitHeadTimeout{5000};
// After a response that closes the connection, unread request bytes are
// drained this long so the close does not turn into a reset that loses the
// response.
constexpr milliseconds kLingerTimeout{1000};
// Worker threads leave after this long without work.
constexpr milliseconds kWorkerIdleExit{10000};

enum class Lane { kPeer, kCluster, kRest };

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The lanes of http_server.h. Raft's own messages have a pool of their own:
// their handlers only hop onto the event loop, while every other internal
// handler may wait, for a commit or for a leader it forwards to (a heartbeat
// sent to a follower is relayed to a leader that may be frozen, for up to
// the relay's read timeout); were they in one pool, a few such waits would
// hold back the very votes and appends that end them. Neither lane shares
// threads with REST clients.
Lane lane_of(std::string_view path) {
  if (!starts_with(path, "/internal/")) return Lane::kRest;
  if (path == "/internal/raft/messages" || starts_with(path, "/internal/raft/joined/")) {
    return Lane::kPeer;
  }
  return Lane::kCluster;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return status < 400 ? "OK" : "Error";
  }
}

bool is_safe_header_text(const std::string& text) {
  return text.find_first_of("\r\n") == std::string::npos;
}

std::string response_head(const HttpResponse& response, bool keep_alive, int version_minor) {
  std::string head =
      "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  if (!response.content_type.empty() && is_safe_header_text(response.content_type)) {
    head += "Content-Type: " + response.content_type + "\r\n";
  }
  head += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (!keep_alive) {
    head += "Connection: close\r\n";
  } else if (version_minor == 0) {
    head += "Connection: keep-alive\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    if (is_safe_header_text(name) && is_safe_header_text(value)) {
      head += name + ": " + value + "\r\n";
    }
  }
  head += "\r\n";
  return head;
}

tcp::socket& tcp_of(tcp::socket& socket) {
  return socket;
}
tcp::socket& tcp_of(TlsStream& stream) {
  return stream.next_layer();
}

struct Route {
  std::string method;
  std::string route;  // the pattern as registered: the span's http.route
  std::regex pattern;
  HttpServer::Handler handler;
};

struct HttpMetrics {
  metrics::Gauge& client_connections = metrics::registry().gauge(
      "dmq_http_connections_open", "Open HTTP connections", {{"kind", "client"}});
  metrics::Gauge& peer_connections = metrics::registry().gauge(
      "dmq_http_connections_open", "Open HTTP connections", {{"kind", "peer"}});
  metrics::Counter& rejected = metrics::registry().counter(
      "dmq_http_connections_rejected_total",
      "HTTP connections answered 503 because http.max.connections was reached");
  metrics::Counter& idle_closed = metrics::registry().counter(
      "dmq_http_idle_connections_closed_total",
      "HTTP connections closed after http.idle.timeout.ms without a request");
  metrics::Counter& bad_requests = metrics::registry().counter(
      "dmq_http_malformed_requests_total", "HTTP requests refused before routing (4xx/5xx)");
};

}  // namespace

// The asio side of HttpServer: I/O contexts (one thread each), the acceptor,
// the routes and the lanes' worker pools.
struct HttpServer::Core {
  Core(HttpServer& owner, const HttpServerLimits& limits, HttpTls tls_in)
      : owner(owner),
        limits(limits),
        tls(std::make_unique<HttpTls>(std::move(tls_in))),
        rest("http-rest", limits.rest_threads, kWorkerIdleExit),
        cluster("http-cluster", limits.cluster_threads, kWorkerIdleExit),
        peer("http-peer", limits.peer_threads, kWorkerIdleExit) {
    for (size_t i = 0; i < std::max<size_t>(1, limits.io_threads); ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
    }
  }

  bool configure_tls();
  std::string start(const HostPort& listen);
  void stop();
  void accept();
  void on_accept(std::error_code error, tcp::socket socket);
  template <class Stream>
  void launch(Stream stream, bool counted);

  WorkerPool& pool_of(Lane lane) {
    return lane == Lane::kPeer ? peer : lane == Lane::kCluster ? cluster : rest;
  }
  // The route, the /internal guard, the gate and the handler; on a worker.
  HttpResponse handle(httplib::Request& request) const;
  // A span for the call around guarded().
  HttpResponse run_route(const Route& route, const httplib::Request& request) const;
  // The /internal guard, then the gate, then the handler.
  HttpResponse guarded(const Route& route, const httplib::Request& request) const;
  milliseconds idle_timeout() const { return milliseconds(limits.idle_timeout_ms); }

  HttpServer& owner;
  const HttpServerLimits limits;
  std::unique_ptr<HttpTls> tls;
  std::unique_ptr<asio::ssl::context> ssl;  // null: plain HTTP
  std::vector<Route> routes;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> io_threads;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> accept_retry;
  size_t next_context = 0;
  WorkerPool rest;
  WorkerPool cluster;
  WorkerPool peer;
  std::atomic<size_t> client_connections{0};
  std::atomic<size_t> peer_connections{0};
  HttpMetrics metrics;
  bool running = false;
};

namespace {

// One connection: TLS handshake (HTTPS), then request after request: read the
// head (idle timer armed), read the body, hand the request to its lane's
// pool (no timer: a handler or long poll taking its time is not idle), write
// the response (write timer), and either read the next head or close.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  enum class Kind { kOverLimit, kClient, kPeer };

  Connection(HttpServer::Core& core, Stream stream, bool counted)
      : core_(core),
        stream_(std::move(stream)),
        timer_(tcp_of(stream_).get_executor()),
        buffer_(kMaxHeadBytes),
        kind_(counted ? Kind::kClient : Kind::kOverLimit) {
    if (kind_ == Kind::kClient) core_.metrics.client_connections.inc();
  }
  ~Connection() {
    if (kind_ == Kind::kClient) {
      core_.client_connections.fetch_sub(1);
      core_.metrics.client_connections.dec();
    } else if (kind_ == Kind::kPeer) {
      core_.peer_connections.fetch_sub(1);
      core_.metrics.peer_connections.dec();
    }
  }

  void start();

 private:
  void arm_timer(milliseconds timeout, bool idle);
  void disarm_timer();
  void read_head();
  void on_head(std::error_code error, size_t head_bytes);
  bool admit(const HttpRequestHead& head);
  void read_body(std::shared_ptr<httplib::Request> request, const HttpRequestHead& head);
  void submit(std::shared_ptr<httplib::Request> request, bool keep_alive, int version_minor);
  void respond(HttpResponse response, bool keep_alive, int version_minor, bool head_only);
  void refuse(int status, const std::string& code, const std::string& message);
  void linger();
  void close();
  std::shared_ptr<httplib::Request> to_request(HttpRequestHead& head);

  HttpServer::Core& core_;
  Stream stream_;
  asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  asio::streambuf buffer_;
  std::string out_head_;
  std::string out_body_;
  Kind kind_;
  bool first_request_ = true;
};

template <class Stream>
void Connection<Stream>::start() {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    arm_timer(kind_ == Kind::kOverLimit ? kOverLimitHeadTimeout : core_.idle_timeout(), true);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](std::error_code error) {
                              if (error) return self->close();
                              self->read_head();
                            });
  } else {
    read_head();
  }
}

// Closes the connection when it fires, unless it was re-armed or disarmed
// since (the generation moved).
template <class Stream>
void Connection<Stream>::arm_timer(milliseconds timeout, bool idle) {
  uint64_t generation = ++timer_generation_;
  timer_.expires_after(timeout);
  timer_.async_wait([self = this->shared_from_this(), generation, idle](std::error_code error) {
    if (error || generation != self->timer_generation_) return;
    if (idle) self->core_.metrics.idle_closed.inc();
    self->close();
  });
}

template <class Stream>
void Connection<Stream>::disarm_timer() {
  ++timer_generation_;
  timer_.cancel();
}

template <class Stream>
void Connection<Stream>::read_head() {
  bool over_limit = kind_ == Kind::kOverLimit;
  arm_timer(
      over_limit ? std::min(kOverLimitHeadTimeout, core_.idle_timeout()) : core_.idle_timeout(),
      true);
  asio::async_read_until(stream_, buffer_, "\r\n\r\n",
                         [self = this->shared_from_this()](std::error_code error, size_t bytes) {
                           self->on_head(error, bytes);
                         });
}

template <class Stream>
std::shared_ptr<httplib::Request> Connection<Stream>::to_request(HttpRequestHead& head) {
  auto request = std::make_shared<httplib::Request>();
  request->method = std::move(head.method);
  request->target = std::move(head.target);
  request->path = std::move(head.path);
  request->version = head.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  for (auto& [key, value] : head.query) request->params.emplace(std::move(key), std::move(value));
  for (auto& [name, value] : head.headers) {
    request->headers.emplace(std::move(name), std::move(value));
  }
  std::error_code ignored;
  auto remote = tcp_of(stream_).remote_endpoint(ignored);
  auto local = tcp_of(stream_).local_endpoint(ignored);
  request->remote_addr = remote.address().to_string();
  request->remote_port = remote.port();
  request->local_addr = local.address().to_string();
  request->local_port = local.port();
  // The client certificate, for REST authentication (rest/rest_auth.h). Valid
  // while the handler runs: the connection, which owns it, waits for the answer.
  if constexpr (std::is_same_v<Stream, TlsStream>) request->ssl = stream_.native_handle();
  return request;
}

template <class Stream>
void Connection<Stream>::on_head(std::error_code error, size_t head_bytes) {
  if (error == asio::error::not_found) {
    // The buffer filled before the blank line.
    return refuse(431, "request_header_fields_too_large",
                  "the request head is larger than " + std::to_string(kMaxHeadBytes) + " bytes");
  }
  if (error == asio::error::eof && buffer_.size() > 0) {
    return refuse(400, "bad_request", "the request head ended before its blank line");
  }
  if (error) return close();  // the peer left, or the idle timer closed the socket
  disarm_timer();
  std::string_view bytes(static_cast<const char*>(buffer_.data().data()), head_bytes);
  auto parsed = parse_request_head(bytes, core_.limits.max_body_bytes);
  buffer_.consume(head_bytes);
  if (auto* failure = std::get_if<HttpParseError>(&parsed)) {
    return refuse(failure->status, failure->code, failure->message);
  }
  auto& head = std::get<HttpRequestHead>(parsed);
  if (!admit(head)) return;
  first_request_ = false;
  read_body(to_request(head), head);
}

// A connection's first request decides what it is: one for /internal/ makes
// it a peer's, never counted against http.max.connections; a client's beyond
// the limit is answered 503.
template <class Stream>
bool Connection<Stream>::admit(const HttpRequestHead& head) {
  if (!first_request_) return true;
  if (starts_with(head.path, "/internal/")) {
    if (kind_ == Kind::kClient) {
      core_.client_connections.fetch_sub(1);
      core_.metrics.client_connections.dec();
    }
    kind_ = Kind::kPeer;
    core_.peer_connections.fetch_add(1);
    core_.metrics.peer_connections.inc();
    return true;
  }
  if (kind_ != Kind::kOverLimit) return true;
  core_.metrics.rejected.inc();
  refuse(503, "too_many_connections",
         "this node serves at most " + std::to_string(core_.limits.max_connections) +
             " HTTP connections (http.max.connections); retry later");
  return false;
}

template <class Stream>
void Connection<Stream>::read_body(std::shared_ptr<httplib::Request> request,
                                   const HttpRequestHead& head) {
  const size_t length = head.content_length;
  const size_t buffered = std::min(length, buffer_.size());
  request->body.assign(static_cast<const char*>(buffer_.data().data()), buffered);
  buffer_.consume(buffered);
  const bool keep_alive = head.keep_alive;
  const int minor = head.version_minor;
  if (buffered == length) return submit(std::move(request), keep_alive, minor);
  request->body.resize(length);
  auto self = this->shared_from_this();
  auto read_rest = [self, request, buffered, keep_alive, minor] {
    self->arm_timer(self->core_.idle_timeout(), true);
    asio::async_read(self->stream_,
                     asio::buffer(request->body.data() + buffered, request->body.size() - buffered),
                     [self, request, keep_alive, minor](std::error_code error, size_t) {
                       if (error == asio::error::eof) {
                         return self->refuse(400, "bad_request",
                                             "the request body ended before Content-Length bytes");
                       }
                       if (error) return self->close();
                       self->disarm_timer();
                       self->submit(request, keep_alive, minor);
                     });
  };
  if (!head.expect_continue) return read_rest();
  out_head_ = "HTTP/1.1 100 Continue\r\n\r\n";
  arm_timer(kWriteTimeout, false);
  asio::async_write(stream_, asio::buffer(out_head_),
                    [self, read_rest](std::error_code error, size_t) {
                      if (error) return self->close();
                      read_rest();
                    });
}

template <class Stream>
void Connection<Stream>::submit(std::shared_ptr<httplib::Request> request, bool keep_alive,
                                int version_minor) {
  auto self = this->shared_from_this();
  const bool head_only = request->method == "HEAD";
  core_.pool_of(lane_of(request->path))
      .submit([self, request, keep_alive, version_minor, head_only] {
        HttpResponse response = self->core_.handle(*request);
        // An internal request refused by the guard closes its connection, so
        // refused requests cannot hold connections outside http.max.connections.
        bool keep = keep_alive && !(starts_with(request->path, "/internal/") &&
                                    (response.status == 401 || response.status == 403));
        asio::post(self->timer_.get_executor(), [self, response = std::move(response), keep,
                                                 version_minor, head_only]() mutable {
          self->respond(std::move(response), keep, version_minor, head_only);
        });
      });
}

template <class Stream>
void Connection<Stream>::respond(HttpResponse response, bool keep_alive, int version_minor,
                                 bool head_only) {
  out_head_ = response_head(response, keep_alive, version_minor);
  out_body_ = head_only ? std::string() : std::move(response.body);
  arm_timer(kWriteTimeout, false);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_), asio::buffer(out_body_)};
  asio::async_write(stream_, buffers,
                    [self = this->shared_from_this(), keep_alive](std::error_code error, size_t) {
                      if (error) return self->close();
                      self->out_body_ = std::string();  // do not keep a large body while idle
                      if (keep_alive) return self->read_head();
                      self->linger();
                    });
}

template <class Stream>
void Connection<Stream>::refuse(int status, const std::string& code, const std::string& message) {
  if (status != 503) core_.metrics.bad_requests.inc();
  respond(json_error(status, code, message), false, 1, false);
}

// Half-closes and reads what the client still sends (the body of a refused
// request) until it closes too or the linger time passes.
template <class Stream>
void Connection<Stream>::linger() {
  std::error_code ignored;
  tcp_of(stream_).shutdown(tcp::socket::shutdown_send, ignored);
  arm_timer(kLingerTimeout, false);
  out_body_.resize(4096);
  auto self = this->shared_from_this();
  auto drain = std::make_shared<std::function<void()>>();
  *drain = [self, drain] {
    tcp_of(self->stream_)
        .async_read_some(asio::buffer(self->out_body_),
                         [self, drain](std::error_code error, size_t) {
                           if (error) {
                             *drain = nullptr;  // break the cycle
                             return self->close();
                           }
                           (*drain)();
                         });
  };
  (*drain)();
}

template <class Stream>
void Connection<Stream>::close() {
  ++timer_generation_;
  timer_.cancel();
  std::error_code ignored;
  tcp_of(stream_).close(ignored);
}

}  // namespace

bool HttpServer::Core::configure_tls() {
  if (!tls->current) return true;
  ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  return configure_base_context(*ssl->native_handle(), tls.get());
}

std::string HttpServer::Core::start(const HostPort& listen) {
  std::error_code error;
  asio::ip::tcp::resolver resolver(*contexts[0]);
  auto endpoints = resolver.resolve(listen.host, std::to_string(listen.port), error);
  if (error || endpoints.empty()) {
    return listen.to_string() + ": " + (error ? error.message() : "no address");
  }
  auto endpoint = endpoints.begin()->endpoint();
  acceptor = std::make_unique<tcp::acceptor>(*contexts[0]);
  // SO_REUSEADDR allows a restart while old connections linger in TIME_WAIT;
  // no SO_REUSEPORT, so a second process cannot bind the same port silently.
  acceptor->open(endpoint.protocol(), error);
  if (!error) acceptor->set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor->bind(endpoint, error);
  if (!error) acceptor->listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    acceptor.reset();
    return listen.to_string() + ": " + error.message();
  }
  accept_retry = std::make_unique<asio::steady_timer>(*contexts[0]);
  accept();
  for (auto& context : contexts) {
    work.push_back(asio::make_work_guard(*context));
    io_threads.emplace_back([context = context.get()] {
      pthread_setname_np(pthread_self(), "http-io");
      context->run();
    });
  }
  running = true;
  return {};
}

void HttpServer::Core::accept() {
  asio::io_context& target = *contexts[next_context++ % contexts.size()];
  acceptor->async_accept(target, [this](std::error_code error, tcp::socket socket) {
    on_accept(error, std::move(socket));
  });
}

void HttpServer::Core::on_accept(std::error_code error, tcp::socket socket) {
  if (error == asio::error::operation_aborted || !acceptor || !acceptor->is_open()) return;
  if (error) {
    // Out of file descriptors, say: try again shortly rather than spin.
    LOG_WARN("http") << "accept failed: " << error.message();
    accept_retry->expires_after(milliseconds(100));
    accept_retry->async_wait([this](std::error_code e) {
      if (!e) accept();
    });
    return;
  }
  std::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  size_t open = client_connections.fetch_add(1);
  bool counted = open < limits.max_connections;
  if (!counted) client_connections.fetch_sub(1);
  if (ssl) {
    launch(TlsStream(std::move(socket), *ssl), counted);
  } else {
    launch(std::move(socket), counted);
  }
  accept();
}

template <class Stream>
void HttpServer::Core::launch(Stream stream, bool counted) {
  // The connection runs on its socket's I/O context, one thread: its steps
  // never run concurrently.
  auto executor = tcp_of(stream).get_executor();
  auto connection = std::make_shared<Connection<Stream>>(*this, std::move(stream), counted);
  asio::post(executor, [connection] { connection->start(); });
}

HttpResponse HttpServer::Core::run_route(const Route& route,
                                         const httplib::Request& request) const {
  trace::Span span = start_request_span(route.route, request);
  const trace::ContextScope scope(span);
  HttpResponse response = guarded(route, request);
  if (span.active()) {
    span.set("http.response.status_code", int64_t{response.status});
    if (response.status >= 500) span.fail("HTTP " + std::to_string(response.status));
  }
  return response;
}

HttpResponse HttpServer::Core::guarded(const Route& route, const httplib::Request& request) const {
  try {
    if (owner.internal_guard_ && starts_with(request.path, "/internal/")) {
      if (auto refused = owner.internal_guard_(request)) return std::move(*refused);
    }
    if (owner.gate_) {
      if (auto refusal = owner.gate_(request)) return std::move(*refusal);
    }
    return route.handler(request);
  } catch (const std::exception& e) {
    LOG_ERROR("http") << request.method << " " << request.path << " failed: " << e.what();
    return json_error(500, "internal_error", e.what());
  } catch (...) {
    LOG_ERROR("http") << request.method << " " << request.path << " failed";
    return json_error(500, "internal_error", "unknown error");
  }
}

HttpResponse HttpServer::Core::handle(httplib::Request& request) const {
  // HEAD is GET without the body (RFC 9110 9.3.2).
  const std::string& method = request.method == "HEAD" ? std::string("GET") : request.method;
  for (const Route& route : routes) {
    if (route.method != method) continue;
    if (!std::regex_match(request.path, request.matches, route.pattern)) continue;
    return run_route(route, request);
  }
  return json_error(404, "not_found", "no such endpoint: " + request.method + " " + request.path);
}

void HttpServer::Core::stop() {
  if (!running) return;
  running = false;
  asio::post(*contexts[0], [this] {
    std::error_code ignored;
    if (acceptor) acceptor->close(ignored);
    if (accept_retry) accept_retry->cancel();
  });
  // Running handlers finish (their answers are still written); queued ones
  // are dropped with their connections.
  peer.stop();
  cluster.stop();
  rest.stop();
  work.clear();
  for (auto& context : contexts) context->stop();
  for (auto& thread : io_threads) thread.join();
  io_threads.clear();
  // Destroying the contexts destroys the connections their handlers hold.
  acceptor.reset();
  accept_retry.reset();
  contexts.clear();
}

HttpServer::HttpServer(HostPort listen, HttpServerLimits limits, HttpTls tls)
    : listen_(std::move(listen)),
      https_(static_cast<bool>(tls.current)),
      core_(std::make_unique<Core>(*this, limits, std::move(tls))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::add_route(const char* method, const std::string& pattern, Handler handler) {
  core_->routes.push_back(Route{method, pattern, std::regex(pattern), std::move(handler)});
}

void HttpServer::get(const std::string& pattern, Handler handler) {
  add_route("GET", pattern, std::move(handler));
}

void HttpServer::post(const std::string& pattern, Handler handler) {
  add_route("POST", pattern, std::move(handler));
}

void HttpServer::del(const std::string& pattern, Handler handler) {
  add_route("DELETE", pattern, std::move(handler));
}

HttpServer::Stats HttpServer::stats() const {
  Stats stats;
  stats.client_connections = core_->client_connections.load();
  stats.peer_connections = core_->peer_connections.load();
  stats.rest_threads = core_->rest.threads();
  stats.cluster_threads = core_->cluster.threads();
  stats.peer_threads = core_->peer.threads();
  return stats;
}

std::string HttpServer::start() {
  if (!core_->configure_tls()) {
    return listen_.to_string() + ": the TLS context could not be set up";
  }
  return core_->start(listen_);
}

void HttpServer::stop() {
  core_->stop();
}

}  // namespace dmq::net
