#pragma once
// The HTTP server of the REST API, metrics and internal RPC (cpp-httplib). It
// runs its own thread pool; handlers that touch loop-owned state must hand the
// work to the EventLoop (EventLoop::call). Every error is a JSON body:
// {"error":{"code":"snake_case","message":"..."}}.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/options.h"

struct ssl_ctx_st;  // SSL_CTX

namespace httplib {
class Server;
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
// not files). Handshakes run on the worker threads, never the event loop.
struct HttpTls {
  std::function<std::shared_ptr<ssl_ctx_st>()> current;
};

// Headers that authenticate a request this node sends to another node's
// REST API (rest/rest_auth.h makes them); (method, target, body) -> headers.
using RequestSigner = std::function<std::vector<std::pair<std::string, std::string>>(
    const std::string& method, const std::string& target, const std::string& body)>;

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const httplib::Request&)>;
  // A response refuses the request before its handler runs; nullopt lets it through.
  using Guard = std::function<std::optional<HttpResponse>(const httplib::Request&)>;

  // `tls` without `current`: plain HTTP.
  HttpServer(HostPort listen, size_t max_body_bytes, int worker_threads, HttpTls tls = {});
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

  // Binds and starts serving on a background thread. Returns an empty string,
  // or the reason it could not listen ("127.0.0.1:8080: Address already in use").
  std::string start();
  // Stops accepting, lets in-flight requests finish, joins the thread.
  void stop();

 private:
  static void write(const HttpResponse& in, httplib::Response& out);
  // A span for the call around guarded().
  HttpResponse dispatch(const std::string& route, const Handler& handler,
                        const httplib::Request& req) const;
  // The /internal guard, then the gate, then the handler.
  HttpResponse guarded(const Handler& handler, const httplib::Request& req) const;

  HostPort listen_;
  bool https_ = false;
  std::unique_ptr<HttpTls> tls_;  // outlives server_: its handshakes read it
  Guard internal_guard_;
  Gate gate_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace dmq::net
