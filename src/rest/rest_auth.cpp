#include "rest/rest_auth.h"

#include <httplib.h>

#include <chrono>
#include <regex>

#include "common/log.h"
#include "net/json_body.h"
#include "security/cluster_secret.h"
#include "security/crypto.h"

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

std::string body_topic_name(const httplib::Request& req) {
  if (req.method != "POST" || req.path != "/v1/topics") return "";
  rapidjson::Document doc;
  if (net::parse_json_object(req.body, &doc)) return "";
  auto it = doc.FindMember("name");
  if (it == doc.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
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
  if (method == "POST" && path == "/v1/topics") {
    // CreateTopics: CREATE on the cluster or on the topic.
    RestPermission need = cluster_needs(AclOperation::kCreate);
    if (!body_topic.empty()) {
      need.any_of.push_back({AclOperation::kCreate, ResourceType::kTopic, std::string(body_topic)});
    }
    return need;
  }
  // Listings and cluster-wide reads (brokers, cluster, topic and group lists,
  // SCRAM users, ACLs) need DESCRIBE on the cluster, as Kafka's ListGroups and
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
  auto keys = security::JwtKeySource::open(s.sasl_oauthbearer_hs256_secret_file,
                                           s.sasl_oauthbearer_jwks_endpoint_url);
  if (!keys) {
    return security::make_error(
        keys.error().code, "--authorizer.enabled (REST bearer tokens): " + keys.error().message);
  }
  auth->keys_ = std::move(keys).value();
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
  std::string base;
  if (!s.sasl_oauthbearer_hs256_secret_file.empty()) {
    auto secret = security::load_cluster_secret(s.sasl_oauthbearer_hs256_secret_file);
    if (secret) base = std::move(secret).value();
  }
  if (base.empty()) {
    // Only this process knows the key: it recognises its own relayed writes.
    base = security::OsRandomSource().bytes(32);
    if (options.controllers.size() > 1) {
      LOG_WARN("rest") << "--authorizer.enabled without --sasl.oauthbearer.hs256.secret.file: "
                          "admin writes a broker relays for Kafka clients (CreateTopics, "
                          "CreateAcls, ...) reach only a controller in the same process";
    }
  }
  auth->node_auth_ = std::make_unique<NodeRequestAuth>(base, options.node_id);
  return auth;
}

std::optional<std::string> RestAuth::principal_of(const httplib::Request& req,
                                                  net::HttpResponse* refusal) {
  const std::string header = req.get_header_value("Authorization");
  if (header.empty()) {
    *refusal = unauthorized("unauthorized", "this endpoint needs Authorization: Bearer <token>");
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
  if (need.open) return std::nullopt;
  const std::string node_header = req.get_header_value(std::string(kNodeAuthHeader).c_str());
  if (!node_header.empty()) {
    const std::string target = req.target.empty() ? req.path : req.target;
    if (node_auth_->verify(req.method, target, req.body, node_header, wall_ms()))
      return std::nullopt;
    LOG_WARN("rest") << "refused a node request with a bad " << kNodeAuthHeader << " from "
                     << req.remote_addr;
    return unauthorized("unauthorized", "node request signature refused");
  }
  net::HttpResponse refusal;
  auto principal = principal_of(req, &refusal);
  if (!principal) return refusal;
  auto image = view_.current();
  auto authorizer = authorizer_->get(image, image->acls);
  for (const auto& n : need.any_of) {
    if (authorizer->authorize(*principal, req.remote_addr, n.operation, n.resource_type,
                              n.resource_name))
      return std::nullopt;
  }
  const auto& first = need.any_of.front();
  return net::json_error(
      403, "forbidden",
      std::string("not authorized: ") + std::string(security::acl_operation_name(first.operation)) +
          " on " + std::string(security::resource_type_name(first.resource_type)) + " is needed");
}

}  // namespace dmq::rest
