#pragma once
// REST authentication and authorization (DESIGN §5), in one place: the
// net::HttpServer gate every route passes through.
//
//  - With --authorizer.enabled every endpoint but GET /v1/health (and GET
//    /metrics unless --metrics.require.auth) needs `Authorization: Bearer
//    <JWT>`, validated as OAUTHBEARER tokens are (same keys, issuer,
//    audience and principal claim); the principal is "User:" + the claim.
//    401 {"error":{"code":"unauthorized"|"token_expired"|...}} when it is
//    missing or bad, 403 "forbidden" when the ACLs refuse the operation.
//  - Over HTTPS with --http.ssl.client.auth=requested|required, a request
//    without a bearer token is authenticated by its verified client
//    certificate: "User:" + the subject as --ssl.principal.mapping.rules
//    maps it (Kafka's SSL principal); a subject no rule applies to gets 401.
//    Bearer tokens are then optional (no key options needed).
//  - Each endpoint needs what the Kafka API doing the same thing needs
//    (rest_permission below), checked against the ACLs of this node's
//    metadata view: GET /v1/topics and /v1/groups any principal, answered
//    with the items it may DESCRIBE (listing_filter); share-group fetch and
//    ack READ on the group and on every topic their body names.
//  - Requests between nodes (a broker relaying an admin write it already
//    authorized, on behalf of a Kafka client) carry X-DMQ-Node-Auth, an
//    HMAC over the request (security/cluster_auth.h's scheme) keyed from the
//    cluster secret, else the OAUTHBEARER HS256 secret; they act as a cluster
//    member. Without either secret, a relay to another process is
//    authenticated by the relaying node's client certificate. A controller
//    relaying a client's write to the leader passes the client's own
//    Authorization header on, and the leader checks it again.
//  - /internal/* is cluster authentication's business (the cluster secret),
//    except over HTTPS with client certificates and no cluster secret: then
//    the certificate's principal needs CLUSTER_ACTION on the cluster (give
//    the nodes' principal --super.users, as Kafka's inter-broker principal).
//
// Threads: HTTP worker threads; the gate is thread-safe.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/metadata_view.h"
#include "common/options.h"
#include "net/http_server.h"
#include "security/acl.h"
#include "security/authorizer_cache.h"
#include "security/cluster_auth.h"
#include "security/jwt_key_source.h"
#include "security/principal_mapping.h"

namespace dmq::rest {

inline constexpr std::string_view kNodeAuthHeader = "X-DMQ-Node-Auth";

// What a REST request needs. kOpen: nothing; else one of `any_of` must be
// allowed for the principal.
struct RestPermission {
  struct Need {
    security::AclOperation operation;
    security::ResourceType resource_type;
    std::string resource_name;
  };
  bool open = false;
  std::vector<Need> any_of;
  std::vector<Need> all_of;  // each needed too (ShareFetch: READ on every topic)
};

// The mapping, pure: `captured` is the path's resource name when the route has
// one, `body_topic` the "name" of a POST /v1/topics body. Unknown /v1 paths
// need DESCRIBE (GET) or ALTER (other methods) on the cluster.
RestPermission rest_permission(std::string_view method, std::string_view path,
                               bool metrics_require_auth, std::string_view body_topic = "");

// Which items of a listing (GET /v1/topics, GET /v1/groups) the request's
// principal is shown: those it may DESCRIBE, as Kafka's Metadata and
// ListGroups filter item by item. Null: every item.
using ListFilter = std::function<bool(security::ResourceType, const std::string& name)>;
using ListFilterFn = std::function<ListFilter(const httplib::Request&)>;

// Signs node-to-node REST requests (X-DMQ-Node-Auth) and checks them.
class NodeRequestAuth {
 public:
  // `base_secret`: the HS256 secret, or random bytes (then only this process
  // recognises its own requests: a single node).
  NodeRequestAuth(std::string_view base_secret, int32_t node_id);
  std::string sign(std::string_view method, std::string_view target, std::string_view body,
                   int64_t now_ms);
  bool verify(std::string_view method, std::string_view target, std::string_view body,
              std::string_view header, int64_t now_ms);

 private:
  std::string key_;
  int32_t node_id_;
  security::OsRandomSource random_;
  security::ClusterRequestVerifier verifier_;
};

// REST over HTTPS with client certificates (--http.ssl.client.auth).
struct CertificateAuth {
  security::SslPrincipalMapper mapper;  // --ssl.principal.mapping.rules
  bool guards_internal = false;  // no cluster secret: /internal/ needs a member's certificate
};

class RestAuth {
 public:
  // Null (no gate) when the authorizer is off; else the gate, or an error
  // naming the option that is missing (no bearer-token keys).
  static security::Result<std::shared_ptr<RestAuth>> create(const Options& options,
                                                            const broker::MetadataView& view);

  // nullopt: let the request through.
  std::optional<net::HttpResponse> check(const httplib::Request& req);
  // For a request check() let through.
  ListFilter listing_filter(const httplib::Request& req);
  NodeRequestAuth& node_auth() { return *node_auth_; }

 private:
  RestAuth(const Options& options, const broker::MetadataView& view)
      : options_(options), view_(view) {}
  std::optional<std::string> principal_of(const httplib::Request& req, net::HttpResponse* refusal);
  std::optional<std::string> certificate_principal(const httplib::Request& req,
                                                   net::HttpResponse* refusal);
  bool internal_needs_certificate(std::string_view path) const;
  // No secret shared by the nodes: a node header that does not verify comes
  // from another node, whose client certificate authenticates the request.
  bool certificate_speaks_for_node(const httplib::Request& req) const;
  std::optional<net::HttpResponse> authorize(const httplib::Request& req,
                                             const std::string& principal,
                                             const RestPermission& need);

  const Options& options_;
  const broker::MetadataView& view_;
  std::shared_ptr<security::JwtKeySource> keys_;   // null: certificates only
  std::unique_ptr<CertificateAuth> certificates_;  // null: no HTTPS client certificates
  security::JwtValidatorConfig jwt_;
  std::unique_ptr<security::AuthorizerCache> authorizer_;
  std::unique_ptr<NodeRequestAuth> node_auth_;
  bool node_key_shared_ = false;  // the cluster or HS256 secret, not a key of this process
};

}  // namespace dmq::rest
