#pragma once
// The HTTP server of the REST API, metrics and internal RPC. Connections are
// driven by asio on a couple of I/O threads (an idle keep-alive connection
// costs a socket and a small buffer, no thread); requests are parsed by a
// strict HTTP/1.1 head parser (http_request_head.h) and handed to cpp-httplib
// Request objects, so routes keep httplib's types. Handlers may block (a Raft
// commit, a forwarded write, a long poll), so they run on bounded worker pools
// (worker_pool.h), one per lane:
//   peer    /internal/raft/messages, /internal/raft/joined/*: Raft's own
//           traffic, whose handlers never wait for a commit or a leader;
//   cluster every other /internal/*: broker heartbeats and registrations,
//           forwarded proposals, metadata tail long polls, share-group RPC
//           (handlers that may wait for a commit or a relay to the leader);
//   rest    everything else.
// A REST storm fills only the rest lane. Handlers that touch loop-owned state
// must hand the work to the EventLoop (EventLoop::call). Every error is a JSON
// body: {"error":{"code":"snake_case","message":"..."}}.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/options.h"

struct ssl_ctx_st;  // SSL_CTX

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace dmq::net {

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int status, std::string body, std::string content_type = "application/json")
      : status(status), body(std::move(body)), content_type(std::move(content_type)) {}

  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// On a successful metadata write: the controller's applied index once the
// write was applied there. A node that relayed the write waits until its own
// copy of the metadata reaches it, so a read on the same node sees the write.
inline constexpr const char* kAppliedIndexHeader = "X-DMQ-Applied-Index";
std::optional<uint64_t> applied_index_of(const httplib::Response& response);

HttpResponse json_error(int status, const std::string& code, const std::string& message);

// HTTPS: `current` gives the server context (certificate chain, key, CA
// for client certificates) a new connection's handshake uses, so a context
// replaced on SIGHUP reaches new connections while open ones keep theirs.
// Protocol versions, ciphers and the client-certificate mode are taken from
// the first context and do not change on reload (they come from options,
// not files). Handshakes run on the server's I/O threads, never the event loop.
struct HttpTls {
  std::function<std::shared_ptr<ssl_ctx_st>()> current;
};

// Headers that authenticate a request this node sends to another node's
// REST API (rest/rest_auth.h makes them); (method, target, body) -> headers.
using RequestSigner = std::function<std::vector<std::pair<std::string, std::string>>(
    const std::string& method, const std::string& target, const std::string& body)>;

struct HttpServerLimits {
  size_t max_body_bytes = size_t{1} << 20;
  // A keep-alive connection waiting for (or slowly sending) its next request
  // is closed after this; a request being handled is never idle.
  int64_t idle_timeout_ms = 60000;
  // Client connections beyond this get a 503 and are closed. Connections whose
  // first request is for /internal/ (cluster peers) are not counted.
  size_t max_connections = 5000;
  size_t rest_threads = 32;      // the rest lane's bound
  size_t cluster_threads = 128;  // heartbeats, long polls held by peers, relays
  size_t peer_threads = 4;
  size_t io_threads = 2;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const httplib::Request&)>;
  // A response refuses the request before its handler runs; nullopt lets it through.
  using Guard = std::function<std::optional<HttpResponse>(const httplib::Request&)>;

  // `tls` without `current`: plain HTTP.
  HttpServer(HostPort listen, HttpServerLimits limits, HttpTls tls = {});
  ~HttpServer();

  // Runs before every handler registered here: an answer refuses the request
  // (401, 403), nullopt lets it through. REST authentication and
  // authorization live behind it (src/rest/rest_auth.h). Set before start().
  using Gate = std::function<std::optional<HttpResponse>(const httplib::Request&)>;
  void set_gate(Gate gate) { gate_ = std::move(gate); }

  // `pattern` is a regular expression over the path; captures are in req.matches.
  void get(const std::string& pattern, Handler handler);
  void post(const std::string& pattern, Handler handler);
  void del(const std::string& pattern, Handler handler);
  // Runs before the handler of every path under /internal/ (node-to-node
  // traffic). Set before start().
  void set_internal_guard(Guard guard) { internal_guard_ = std::move(guard); }
  bool https() const { return https_; }

  struct Stats {
    size_t client_connections = 0;  // counted against max_connections
    size_t peer_connections = 0;
    size_t rest_threads = 0;  // worker threads alive now, per lane
    size_t cluster_threads = 0;
    size_t peer_threads = 0;
  };
  Stats stats() const;

  // Binds and starts serving on the server's I/O threads. Returns an empty string,
  // or the reason it could not listen ("127.0.0.1:8080: Address already in use").
  std::string start();
  // Stops accepting, lets running handlers finish, closes every connection
  // and joins the threads.
  void stop();

  struct Core;  // the asio side (http_server.cpp)

 private:
  void add_route(const char* method, const std::string& pattern, Handler handler);

  HostPort listen_;
  bool https_ = false;
  Guard internal_guard_;
  Gate gate_;
  std::unique_ptr<Core> core_;
};

}  // namespace dmq::net
