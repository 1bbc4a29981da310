#pragma once
// Node-to-node HTTP: how this node reaches its peers (http or https, the CA
// their certificates chain to, its own client certificate for mTLS) and the
// HMAC signature every request to a peer carries when a cluster secret is
// configured (security/cluster_auth.h), and the check that refuses an
// /internal/* request that is not signed by a cluster member.
//
// configure_cluster_http() runs once at start, before any thread that talks
// to peers or serves HTTP starts; afterwards the settings are read-only and
// PeerClient may be used from any thread (one PeerClient per thread).

#include <httplib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "net/http_server.h"

namespace dmq::net {

struct ClusterHttpSettings {
  int32_t node_id = 0;
  // The shared cluster secret (--cluster.secret.file). Empty: requests go
  // unsigned and /internal/* is not checked (today's trust-the-network mode).
  std::string secret;
  bool https = false;                // peers serve HTTPS (--http.listeners=HTTPS://...)
  std::string ca_path;               // PEM CA bundle the peers' certificates must chain to
  std::string client_keystore_path;  // PEM chain then key, offered to peers (mTLS); may be empty
};

void configure_cluster_http(ClusterHttpSettings settings);
bool cluster_secret_configured();

// The header a request to a peer carries, signed with the cluster secret
// (none without one). `target` is the path and query exactly as sent.
httplib::Headers cluster_auth_headers(const std::string& method, const std::string& target,
                                      const std::string& body);

// An HTTP(S) client for one peer with the settings above; every request is
// signed. The underlying client stays reachable for timeouts and keep-alive.
class PeerClient {
 public:
  PeerClient(const std::string& host, uint16_t port);
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // `extra`: headers sent besides the signature.
  httplib::Result get(const std::string& target, httplib::Headers extra = {});
  httplib::Result post(const std::string& target, const std::string& body,
                       const std::string& content_type = "application/json",
                       httplib::Headers extra = {});
  httplib::Result del(const std::string& target, httplib::Headers extra = {});
  // "GET" | "POST" | "DELETE".
  httplib::Result send(const std::string& method, const std::string& target,
                       const std::string& body, httplib::Headers extra = {});
  httplib::Client& http() { return *client_; }

 private:
  std::unique_ptr<httplib::Client> client_;
};

// For HttpServer::set_internal_guard: with a cluster secret, the 401 answer
// for a request that is unsigned, badly signed, stale or replayed (nullopt
// lets it through). Refusals are counted (dmq_cluster_auth_refused_total by
// reason) and logged at most once per second per reason, naming the peer
// address and the path, never the header or the secret.
std::optional<HttpResponse> check_cluster_request(const httplib::Request& request);

// Replica fetches travel on the Kafka port, not HTTP: a follower proves it is
// a cluster member once per connection with a SaslHandshake for the
// DMQ-CLUSTER mechanism (offered on every listener when a secret is set)
// and a SaslAuthenticate whose token is a cluster signature over
// ("KAFKA", "/kafka/cluster-member/<leader id>", ""), so a proof made for one
// broker is refused by another, and a replayed one by its replay cache.
inline constexpr const char* kClusterSaslMechanism = "DMQ-CLUSTER";
// The token for a connection to node `to_node`; empty without a secret.
std::string cluster_member_token(int32_t to_node);
// The sender's node id, or nullopt with `error` set (no secret text).
std::optional<int32_t> verify_cluster_member_token(std::string_view token, int32_t self_node,
                                                   std::string* error);

}  // namespace dmq::net
