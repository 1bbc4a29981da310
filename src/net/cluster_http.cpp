#include "net/cluster_http.h"

#include <array>
#include <atomic>
#include <chrono>

#include "common/log.h"
#include "common/metrics.h"
#include "security/cluster_auth.h"
#include "security/random.h"

namespace dmq::net {
namespace {

// Written once by configure_cluster_http() before other threads start.
ClusterHttpSettings& settings() {
  static ClusterHttpSettings s;
  return s;
}

// A full window of heartbeats, metadata tails, share reads and ISR changes
// fits many times over; past it requests are refused (fail closed), never
// forgotten while replayable.
constexpr size_t kMaxRememberedNonces = 262144;

std::unique_ptr<security::ClusterRequestVerifier>& verifier() {
  static std::unique_ptr<security::ClusterRequestVerifier> v;
  return v;
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// At most one log line per second per reason: an attacker hammering the
// port must not fill the disk.
bool may_log(security::ErrorCode code) {
  static std::array<std::atomic<int64_t>, 32> last_ms{};
  auto& last = last_ms[static_cast<size_t>(code) % last_ms.size()];
  int64_t now = steady_ms();
  int64_t previous = last.load();
  return now - previous >= 1000 && last.compare_exchange_strong(previous, now);
}

std::string scheme_host_port(const std::string& host, uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return std::string(settings().https ? "https://" : "http://") + (ipv6 ? "[" + host + "]" : host) +
         ":" + std::to_string(port);
}

}  // namespace

void configure_cluster_http(ClusterHttpSettings s) {
  if (!s.secret.empty()) {
    verifier() = std::make_unique<security::ClusterRequestVerifier>(
        s.secret, security::kClusterAuthWindowMs, kMaxRememberedNonces);
  } else {
    verifier().reset();
  }
  settings() = std::move(s);
}

bool cluster_secret_configured() {
  return !settings().secret.empty();
}

httplib::Headers cluster_auth_headers(const std::string& method, const std::string& target,
                                      const std::string& body) {
  httplib::Headers headers;
  const ClusterHttpSettings& s = settings();
  if (s.secret.empty()) return headers;
  static security::OsRandomSource random;
  headers.emplace(std::string(security::kClusterAuthHeader),
                  security::sign_cluster_request(s.secret, {method, target, body}, s.node_id,
                                                 wall_ms(), random));
  return headers;
}

PeerClient::PeerClient(const std::string& host, uint16_t port) {
  const ClusterHttpSettings& s = settings();
  if (s.https && !s.client_keystore_path.empty()) {
    // The keystore holds the chain and the key; OpenSSL reads each from it.
    client_ = std::make_unique<httplib::Client>(scheme_host_port(host, port),
                                                s.client_keystore_path, s.client_keystore_path);
  } else {
    client_ = std::make_unique<httplib::Client>(scheme_host_port(host, port));
  }
  if (s.https) {
    client_->set_ca_cert_path(s.ca_path);
    client_->enable_server_certificate_verification(true);
  }
  // Targets are signed as sent: callers encode path segments themselves.
  client_->set_url_encode(false);
}

PeerClient::~PeerClient() = default;

namespace {
httplib::Headers with_signature(const std::string& method, const std::string& target,
                                const std::string& body, httplib::Headers extra) {
  httplib::Headers headers = cluster_auth_headers(method, target, body);
  headers.merge(extra);
  return headers;
}
}  // namespace

httplib::Result PeerClient::get(const std::string& target, httplib::Headers extra) {
  return client_->Get(target.c_str(), with_signature("GET", target, "", std::move(extra)));
}

httplib::Result PeerClient::post(const std::string& target, const std::string& body,
                                 const std::string& content_type, httplib::Headers extra) {
  return client_->Post(target.c_str(), with_signature("POST", target, body, std::move(extra)), body,
                       content_type.c_str());
}

httplib::Result PeerClient::del(const std::string& target, httplib::Headers extra) {
  return client_->Delete(target.c_str(), with_signature("DELETE", target, "", std::move(extra)));
}

httplib::Result PeerClient::send(const std::string& method, const std::string& target,
                                 const std::string& body, httplib::Headers extra) {
  if (method == "POST") return post(target, body, "application/json", std::move(extra));
  if (method == "DELETE") return del(target, std::move(extra));
  return get(target, std::move(extra));
}

namespace {
std::string member_target(int32_t node) {
  return "/kafka/cluster-member/" + std::to_string(node);
}
}  // namespace

std::string cluster_member_token(int32_t to_node) {
  const ClusterHttpSettings& s = settings();
  if (s.secret.empty()) return "";
  static security::OsRandomSource random;
  return security::sign_cluster_request(s.secret, {"KAFKA", member_target(to_node), ""}, s.node_id,
                                        wall_ms(), random);
}

std::optional<int32_t> verify_cluster_member_token(std::string_view token, int32_t self_node,
                                                   std::string* error) {
  auto& v = verifier();
  if (!v) {
    *error = "no cluster secret is configured";
    return std::nullopt;
  }
  const std::string target = member_target(self_node);
  auto verified = v->verify({"KAFKA", target, ""}, token, wall_ms());
  if (verified) return verified.value();
  *error = verified.error().message;
  metrics::registry()
      .counter("dmq_cluster_auth_refused_total",
               "Node-to-node requests refused: unsigned, forged, stale or replayed.",
               {{"reason", std::string(security::error_code_name(verified.error().code))}})
      .inc();
  return std::nullopt;
}

std::optional<HttpResponse> check_cluster_request(const httplib::Request& request) {
  auto& v = verifier();
  if (!v) return std::nullopt;
  const std::string target = request.target.empty() ? request.path : request.target;
  const std::string header =
      request.get_header_value(std::string(security::kClusterAuthHeader).c_str());
  auto verified = header.empty()
                      ? security::Result<int32_t>(security::make_error(
                            security::ErrorCode::kMalformed, "request is not signed"))
                      : v->verify({request.method, target, request.body}, header, wall_ms());
  if (verified) return std::nullopt;
  const security::Error& error = verified.error();
  const std::string reason(security::error_code_name(error.code));
  metrics::registry()
      .counter("dmq_cluster_auth_refused_total",
               "Node-to-node requests refused: unsigned, forged, stale or replayed.",
               {{"reason", reason}})
      .inc();
  if (may_log(error.code)) {
    LOG_WARN("security") << "refused " << request.method << " " << request.path.substr(0, 120)
                         << " from " << request.remote_addr << ": " << error.message
                         << " (not a cluster member; further refusals this second not logged)";
  }
  return json_error(401, "cluster_auth_failed", "node-to-node request refused: " + error.message);
}

}  // namespace dmq::net
