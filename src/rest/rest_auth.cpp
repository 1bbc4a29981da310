#include "rest/rest_auth.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <regex>

#include "common/log.h"
#include "net/json_body.h"
#include "security/cluster_secret.h"
#include "security/crypto.h"
#include "security/tls.h"

namespace dmq::rest {
namespace {

using security::AclOperation;
using security::ResourceType;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Endpoints on one named resource, as the Kafka API doing the same thing
// checks them (Metadata/DescribeConfigs, DeleteTopics, CreatePartitions,
// AlterConfigs, Produce, Fetch, DescribeGroups, ShareFetch/ShareAcknowledge).
struct ResourceRoute {
  const char* method;
  std::regex pattern;  // capture 1: the resource name
  AclOperation operation;
  ResourceType resource_type;
};

const std::vector<ResourceRoute>& resource_routes() {
  static const std::vector<ResourceRoute> routes = {
      {"GET", std::regex(R"(/v1/topics/([^/]+))"), AclOperation::kDescribe, ResourceType::kTopic},
      {"DELETE", std::regex(R"(/v1/topics/([^/]+))"), AclOperation::kDelete, ResourceType::kTopic},
      {"POST", std::regex(R"(/v1/topics/([^/]+)/partitions)"), AclOperation::kAlter,
       ResourceType::kTopic},
      {"POST", std::regex(R"(/v1/topics/([^/]+)/configs)"), AclOperation::kAlterConfigs,
       ResourceType::kTopic},
      {"POST", std::regex(R"(/v1/topics/([^/]+)/records)"), AclOperation::kWrite,
       ResourceType::kTopic},
      {"GET", std::regex(R"(/v1/topics/([^/]+)/partitions/[^/]+/records)"), AclOperation::kRead,
       ResourceType::kTopic},
      {"POST", std::regex(R"(/v1/topics/([^/]+)/partitions/[^/]+/delete-records)"),
       AclOperation::kDelete, ResourceType::kTopic},
      {"GET", std::regex(R"(/v1/groups/([^/]+))"), AclOperation::kDescribe, ResourceType::kGroup},
      {"POST", std::regex(R"(/v1/share-groups/([^/]+)/(fetch|ack))"), AclOperation::kRead,
       ResourceType::kGroup},
      {"GET", std::regex(R"(/v1/share-groups/([^/]+))"), AclOperation::kDescribe,
       ResourceType::kGroup},
      // A consumer instance and everything it does act for its group, as a
      // Kafka consumer's JoinGroup, OffsetCommit and OffsetFetch do (READ).
      {"POST", std::regex(R"(/v1/consumers/([^/]+)(/.*)?)"), AclOperation::kRead,
       ResourceType::kGroup},
      {"GET", std::regex(R"(/v1/consumers/([^/]+)/.*)"), AclOperation::kRead, ResourceType::kGroup},
      {"DELETE", std::regex(R"(/v1/consumers/([^/]+)/.*)"), AclOperation::kRead,
       ResourceType::kGroup},
  };
  return routes;
}

RestPermission cluster_needs(AclOperation op) {
  RestPermission p;
  p.any_of.push_back({op, ResourceType::kCluster, std::string(security::kClusterResourceName)});
  return p;
}

net::HttpResponse unauthorized(std::string code, const std::string& message) {
  net::HttpResponse r = net::json_error(401, code, message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

net::HttpResponse forbidden(const RestPermission::Need& need) {
  return net::json_error(
      403, "forbidden",
      std::string("not authorized: ") + std::string(security::acl_operation_name(need.operation)) +
          " on " + std::string(security::resource_type_name(need.resource_type)) + " is needed");
}

std::string body_topic_name(const httplib::Request& req) {
  if (req.method != "POST" || req.path != "/v1/topics") return "";
  rapidjson::Document doc;
  if (net::parse_json_object(req.body, &doc)) return "";
  auto it = doc.FindMember("name");
  if (it == doc.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// The secret node-to-node REST requests are signed with: the cluster secret
// (made for node traffic), else the HS256 secret, both shared by every node.
// Without either only this process knows the key: it recognises its own
// relayed writes, and a remote controller takes a relaying node's client
// certificate instead (HTTPS with client auth; the nodes' principal a
// super user), as Kafka takes its inter-broker principal.
std::string node_key_base(const Options& options, bool* shared) {
  const SecurityOptions& s = options.security;
  *shared = true;
  for (const std::string* file : {&s.cluster_secret_file, &s.sasl_oauthbearer_hs256_secret_file}) {
    if (file->empty()) continue;
    auto secret = security::load_cluster_secret(*file);
    if (secret) return std::move(secret).value();
  }
  *shared = false;
  const bool certificates = s.http_tls && s.http_ssl_client_auth != "none";
  if (options.controllers.size() > 1 && !certificates) {
    LOG_WARN("rest") << "--authorizer.enabled without --cluster.secret.file, "
                        "--sasl.oauthbearer.hs256.secret.file or HTTPS client certificates: "
                        "admin writes a broker relays for Kafka clients (CreateTopics, "
                        "CreateAcls, ...) reach only a controller in the same process";
  }
  return security::OsRandomSource().bytes(32);
}

// REST over HTTPS with client certificates: the principal mapping, and
// whether /internal/ relies on the certificates (no cluster secret).
security::Result<std::unique_ptr<CertificateAuth>> certificate_auth(const Options& options) {
  const SecurityOptions& s = options.security;
  if (!s.http_tls || s.http_ssl_client_auth == "none") return std::unique_ptr<CertificateAuth>();
  auto mapper = security::SslPrincipalMapper::parse(s.ssl_principal_mapping_rules);
  if (!mapper) return security::make_error(mapper.error().code, "--" + mapper.error().message);
  return std::make_unique<CertificateAuth>(
      CertificateAuth{std::move(mapper).value(), s.cluster_secret_file.empty()});
}

// The topics of a share-group fetch ({"topics":[t]}) or ack
// ({"acks":[{"topic"}]}) body, and of an HTTP consumer's subscription
// ({"topics":[t]}) or commit ({"offsets":[{"topic"}]}): as Kafka's
// ShareFetch, ShareAcknowledge, Fetch and OffsetCommit, these need READ on
// each topic as well as on the group. A body that does not parse names
// none; its handler answers 400.
std::vector<std::string> read_body_topics(const httplib::Request& req) {
  static const std::regex kRoutes(
      R"(/v1/share-groups/[^/]+/(fetch|ack)|/v1/consumers/[^/]+/instances/[^/]+/(subscription|offsets))");
  std::vector<std::string> topics;
  if (req.method != "POST" || !std::regex_match(req.path, kRoutes)) return topics;
  rapidjson::Document doc;
  if (net::parse_json_object(req.body, &doc)) return topics;
  auto add = [&topics](const rapidjson::Value& v) {
    if (v.IsString()) topics.emplace_back(v.GetString(), v.GetStringLength());
  };
  if (auto it = doc.FindMember("topics"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& t : it->value.GetArray()) add(t);
  }
  for (const char* list : {"acks", "offsets"}) {
    if (auto it = doc.FindMember(list); it != doc.MemberEnd() && it->value.IsArray()) {
      for (const auto& a : it->value.GetArray()) {
        if (a.IsObject() && a.HasMember("topic")) add(a["topic"]);
      }
    }
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  return topics;
}

}  // namespace

RestPermission rest_permission(std::string_view method, std::string_view path,
                               bool metrics_require_auth, std::string_view body_topic) {
  RestPermission open;
  open.open = true;
  if (method == "GET" && (path == "/v1/health" || path == "/")) return open;
  // The console's static files hold no data; what it shows comes from /v1.
  if (method == "GET" && (path == "/ui" || path.rfind("/ui/", 0) == 0)) return open;
  if (method == "GET" && path == "/metrics") {
    return metrics_require_auth ? cluster_needs(AclOperation::kDescribe) : open;
  }
  if (path.rfind("/internal/", 0) == 0) return open;  // cluster authentication's business
  if (path.rfind("/v1/topics/", 0) == 0 && path.find("/reassign") != std::string_view::npos) {
    return cluster_needs(AclOperation::kAlter);
  }
  const std::string p(path);
  for (const auto& route : resource_routes()) {
    std::smatch m;
    if (method != route.method || !std::regex_match(p, m, route.pattern)) continue;
    RestPermission need;
    need.any_of.push_back({route.operation, route.resource_type, m[1].str()});
    return need;
  }
  if (method == "GET" && (path == "/v1/topics" || path == "/v1/groups")) {
    // Any authenticated principal; the answer lists what it may describe.
    return RestPermission{};
  }
  if (path == "/v1/quotas") {
    // Kafka's DescribeClientQuotas / AlterClientQuotas: configs of the cluster.
    return cluster_needs(method == "GET" ? AclOperation::kDescribeConfigs
                                         : AclOperation::kAlterConfigs);
  }
  if (method == "POST" && path == "/v1/topics") {
    // CreateTopics: CREATE on the cluster or on the topic.
    RestPermission need = cluster_needs(AclOperation::kCreate);
    if (!body_topic.empty()) {
      need.any_of.push_back({AclOperation::kCreate, ResourceType::kTopic, std::string(body_topic)});
    }
    return need;
  }
  // Other cluster-wide reads (brokers, cluster, SCRAM users, ACLs,
  // transactions) need DESCRIBE on the cluster, as Kafka's DescribeCluster and
  // DescribeAcls do; every other write needs ALTER on it (CreateAcls,
  // AlterUserScramCredentials, voters, leadership, rebalancing).
  return cluster_needs(method == "GET" ? AclOperation::kDescribe : AclOperation::kAlter);
}

NodeRequestAuth::NodeRequestAuth(std::string_view base_secret, int32_t node_id)
    : key_(security::hmac(security::HashAlgorithm::kSha256, base_secret,
                          "dmq node-to-node REST requests v1")),
      node_id_(node_id),
      verifier_(key_) {}

std::string NodeRequestAuth::sign(std::string_view method, std::string_view target,
                                  std::string_view body, int64_t now_ms) {
  return security::sign_cluster_request(key_, {method, target, body}, node_id_, now_ms, random_);
}

bool NodeRequestAuth::verify(std::string_view method, std::string_view target,
                             std::string_view body, std::string_view header, int64_t now_ms) {
  return verifier_.verify({method, target, body}, header, now_ms).ok();
}

security::Result<std::shared_ptr<RestAuth>> RestAuth::create(const Options& options,
                                                             const broker::MetadataView& view) {
  const SecurityOptions& s = options.security;
  if (!s.authorizer_enabled) return std::shared_ptr<RestAuth>();
  auto super_users = security::parse_super_users(s.super_users);
  if (!super_users) {
    return security::make_error(super_users.error().code,
                                "--super.users: " + super_users.error().message);
  }
  std::shared_ptr<RestAuth> auth(new RestAuth(options, view));
  auto certificates = certificate_auth(options);
  if (!certificates) return certificates.error();
  auth->certificates_ = std::move(certificates).value();
  const bool no_token_keys =
      s.sasl_oauthbearer_hs256_secret_file.empty() && s.sasl_oauthbearer_jwks_endpoint_url.empty();
  if (!(no_token_keys && auth->certificates_)) {
    auto keys = security::JwtKeySource::open(s.sasl_oauthbearer_hs256_secret_file,
                                             s.sasl_oauthbearer_jwks_endpoint_url);
    if (!keys) {
      return security::make_error(keys.error().code,
                                  "--authorizer.enabled (REST bearer tokens, "
                                  "or HTTPS client certificates): " +
                                      keys.error().message);
    }
    auth->keys_ = std::move(keys).value();
  }
  auth->jwt_.expected_issuer = s.sasl_oauthbearer_expected_issuer;
  std::string audiences = s.sasl_oauthbearer_expected_audience;
  for (size_t at = 0; at <= audiences.size();) {
    size_t end = audiences.find(',', at);
    if (end == std::string::npos) end = audiences.size();
    if (end > at) auth->jwt_.expected_audiences.push_back(audiences.substr(at, end - at));
    at = end + 1;
  }
  auth->jwt_.principal_claim = s.sasl_oauthbearer_sub_claim_name;
  auth->jwt_.clock_skew_ms = s.sasl_oauthbearer_clock_skew_seconds * 1000;
  auth->authorizer_ = std::make_unique<security::AuthorizerCache>(
      security::AuthorizerConfig{std::move(super_users).value(), s.allow_everyone_if_no_acl_found});
  auth->node_auth_ = std::make_unique<NodeRequestAuth>(
      node_key_base(options, &auth->node_key_shared_), options.node_id);
  return auth;
}

std::optional<std::string> RestAuth::certificate_principal(const httplib::Request& req,
                                                           net::HttpResponse* refusal) {
  if (!certificates_ || req.ssl == nullptr || !security::has_verified_peer_certificate(req.ssl)) {
    *refusal = unauthorized("unauthorized",
                            certificates_ ? "this endpoint needs a client certificate or "
                                            "Authorization: Bearer <token>"
                                          : "this endpoint needs Authorization: Bearer <token>");
    return std::nullopt;
  }
  auto principal = security::peer_principal(req.ssl, certificates_->mapper);
  if (!principal) {
    *refusal = unauthorized("unauthorized", principal.error().message);
    return std::nullopt;
  }
  return std::move(principal).value();
}

std::optional<std::string> RestAuth::principal_of(const httplib::Request& req,
                                                  net::HttpResponse* refusal) {
  const std::string header = req.get_header_value("Authorization");
  if (header.empty()) return certificate_principal(req, refusal);
  if (!keys_) {
    *refusal = unauthorized("unauthorized",
                            "bearer tokens are not accepted here (no "
                            "--sasl.oauthbearer.hs256.secret.file or jwks endpoint); use a "
                            "client certificate");
    return std::nullopt;
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
    *refusal = unauthorized("unauthorized", "the Authorization header is not a Bearer token");
    return std::nullopt;
  }
  const int64_t now = wall_ms();
  auto claims = security::validate_jwt(std::string_view(header).substr(kBearer.size()),
                                       *keys_->keys(now), jwt_, now);
  if (!claims) {
    *refusal = unauthorized(std::string(security::error_code_name(claims.error().code)),
                            "bearer token refused: " + claims.error().message);
    return std::nullopt;
  }
  return "User:" + claims.value().principal;
}

std::optional<net::HttpResponse> RestAuth::check(const httplib::Request& req) {
  const std::string body_topic = body_topic_name(req);
  RestPermission need =
      rest_permission(req.method, req.path, options_.security.metrics_require_auth, body_topic);
  if (need.open && !internal_needs_certificate(req.path)) return std::nullopt;
  if (need.open) need = cluster_needs(AclOperation::kClusterAction);
  for (std::string& topic : read_body_topics(req)) {
    need.all_of.push_back({AclOperation::kRead, ResourceType::kTopic, std::move(topic)});
  }
  const std::string node_header = req.get_header_value(std::string(kNodeAuthHeader).c_str());
  if (!node_header.empty()) {
    const std::string target = req.target.empty() ? req.path : req.target;
    if (node_auth_->verify(req.method, target, req.body, node_header, wall_ms()))
      return std::nullopt;
    // A node without a shared secret signs with a key of its own; over
    // HTTPS its certificate speaks for it instead.
    if (!certificate_speaks_for_node(req)) {
      LOG_WARN("rest") << "refused a node request with a bad " << kNodeAuthHeader << " from "
                       << req.remote_addr;
      return unauthorized("unauthorized", "node request signature refused");
    }
  }
  net::HttpResponse refusal;
  auto principal = principal_of(req, &refusal);
  if (!principal) return refusal;
  return authorize(req, *principal, need);
}

bool RestAuth::certificate_speaks_for_node(const httplib::Request& req) const {
  return !node_key_shared_ && certificates_ && req.ssl != nullptr;
}

// /internal/ without a cluster secret but with client certificates: only a
// cluster member's certificate may call it (Kafka's CLUSTER_ACTION, which
// its inter-broker principal has as a super user).
bool RestAuth::internal_needs_certificate(std::string_view path) const {
  return certificates_ && certificates_->guards_internal && path.rfind("/internal/", 0) == 0;
}

std::optional<net::HttpResponse> RestAuth::authorize(const httplib::Request& req,
                                                     const std::string& principal,
                                                     const RestPermission& need) {
  auto image = view_.current();
  auto authorizer = authorizer_->get(image, image->acls);
  auto allowed = [&](const RestPermission::Need& n) {
    return authorizer->authorize(principal, req.remote_addr, n.operation, n.resource_type,
                                 n.resource_name);
  };
  for (const auto& n : need.all_of) {
    if (!allowed(n)) return forbidden(n);
  }
  if (need.any_of.empty()) return std::nullopt;  // authenticated is enough
  for (const auto& n : need.any_of) {
    if (allowed(n)) return std::nullopt;
  }
  return forbidden(need.any_of.front());
}

ListFilter RestAuth::listing_filter(const httplib::Request& req) {
  // check() let the request through: a node header there was verified (it
  // cannot be checked twice: its nonce is spent) or a certificate spoke for
  // its node; either way a cluster member, shown everything.
  if (req.has_header(std::string(kNodeAuthHeader).c_str()) && !certificate_speaks_for_node(req)) {
    return nullptr;
  }
  net::HttpResponse ignored;
  auto principal = principal_of(req, &ignored);
  if (!principal) return [](security::ResourceType, const std::string&) { return false; };
  auto image = view_.current();
  std::shared_ptr<const security::Authorizer> authorizer = authorizer_->get(image, image->acls);
  const std::string host = req.remote_addr;
  const bool whole_cluster =
      authorizer->authorize(*principal, host, AclOperation::kDescribe, ResourceType::kCluster,
                            std::string(security::kClusterResourceName));
  return [authorizer, name_of_principal = *principal, host, whole_cluster](
             ResourceType type, const std::string& name) {
    // ListGroups shows every group to DESCRIBE on the cluster; Metadata
    // checks each topic.
    if (type == ResourceType::kGroup && whole_cluster) return true;
    return authorizer->authorize(name_of_principal, host, AclOperation::kDescribe, type, name);
  };
}

}  // namespace dmq::rest
