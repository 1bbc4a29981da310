// REST authentication and authorization (rest/rest_auth.h): which endpoint
// needs what, and the gate's answers for missing, bad, expired and valid
// tokens, node-signed requests and ACL changes in the metadata view.
#include <doctest/doctest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "rest/rest_auth.h"
#include "security_test_keys.h"

using namespace dmq;
using security::AclOperation;
using security::ResourceType;

namespace {

constexpr const char* kSecret = "rest-auth-test-secret-0123456789abcdef";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string token(const std::string& sub, int64_t exp_in_s = 600,
                  const std::string& secret = kSecret) {
  return security::test::mint_hs256(
      secret, R"({"alg":"HS256"})",
      "{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(now_ms() / 1000 + exp_in_s) + "}");
}

httplib::Request request(std::string method, std::string path, std::string auth = "") {
  httplib::Request req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.target = req.path;
  if (!auth.empty()) req.headers.emplace("Authorization", std::move(auth));
  return req;
}

void publish_acls(broker::MetadataView& view, const std::vector<security::AclBinding>& acls) {
  cluster::MetadataState state;
  cluster::RecordBatch batch;
  for (const auto& b : acls) batch.push_back(cluster::AclRecord{security::encode_acl_binding(b)});
  if (!batch.empty()) REQUIRE(state.apply(batch, cluster::LogIndex{1}));
  view.publish(std::make_shared<const cluster::MetadataState>(std::move(state)));
}

struct Fixture {
  Fixture() {
    path = "/tmp/dmq-rest-auth-test-" + std::to_string(::getpid());
    std::ofstream(path) << kSecret;
    ::chmod(path.c_str(), 0600);
    options.node_id = 1;
    options.security.authorizer_enabled = true;
    options.security.super_users = "User:root";
    options.security.sasl_oauthbearer_hs256_secret_file = path;
    publish_acls(view, {});
    auto created = rest::RestAuth::create(options, view);
    REQUIRE(created.ok());
    auth = created.value();
  }
  ~Fixture() { std::remove(path.c_str()); }
  int status(const httplib::Request& req) {
    auto refusal = auth->check(req);
    return refusal ? refusal->status : 200;
  }
  std::string path;
  Options options;
  broker::MetadataView view;
  std::shared_ptr<rest::RestAuth> auth;
};

}  // namespace

TEST_CASE("each REST endpoint needs what the Kafka API doing the same needs") {
  auto need = [](std::string_view method, std::string_view path, std::string_view topic = "") {
    auto p = rest::rest_permission(method, path, false, topic);
    REQUIRE_FALSE(p.open);
    REQUIRE(!p.any_of.empty());
    return p.any_of;
  };
  CHECK(rest::rest_permission("GET", "/v1/health", false).open);
  CHECK(rest::rest_permission("GET", "/metrics", false).open);
  CHECK(rest::rest_permission("GET", "/ui/app.js", false).open);
  CHECK_FALSE(rest::rest_permission("GET", "/metrics", true).open);
  CHECK(rest::rest_permission("POST", "/internal/raft/messages", false).open);
  auto n = need("GET", "/v1/topics/orders");
  CHECK((n[0].operation == AclOperation::kDescribe && n[0].resource_type == ResourceType::kTopic &&
         n[0].resource_name == "orders"));
  CHECK(need("DELETE", "/v1/topics/orders")[0].operation == AclOperation::kDelete);
  CHECK(need("POST", "/v1/topics/orders/partitions")[0].operation == AclOperation::kAlter);
  CHECK(need("POST", "/v1/topics/orders/records")[0].operation == AclOperation::kWrite);
  CHECK(need("GET", "/v1/topics/orders/partitions/0/records")[0].operation == AclOperation::kRead);
  n = need("POST", "/v1/topics", "orders");
  REQUIRE(n.size() == 2);
  CHECK((n[0].resource_type == ResourceType::kCluster && n[0].operation == AclOperation::kCreate));
  CHECK((n[1].resource_type == ResourceType::kTopic && n[1].resource_name == "orders"));
  n = need("GET", "/v1/groups/g1");
  CHECK((n[0].resource_type == ResourceType::kGroup && n[0].operation == AclOperation::kDescribe));
  CHECK(need("POST", "/v1/share-groups/g1/fetch")[0].operation == AclOperation::kRead);
  // Listings: any authenticated principal; the handler shows what it may describe.
  for (const char* listing : {"/v1/topics", "/v1/groups"}) {
    auto p = rest::rest_permission("GET", listing, false);
    CHECK((!p.open && p.any_of.empty() && p.all_of.empty()));
  }
  CHECK(need("GET", "/v1/brokers")[0].resource_type == ResourceType::kCluster);
  CHECK(need("GET", "/v1/acls")[0].operation == AclOperation::kDescribe);
  CHECK(need("POST", "/v1/acls")[0].operation == AclOperation::kAlter);
  CHECK(need("DELETE", "/v1/acls")[0].operation == AclOperation::kAlter);
  // Client quotas: Kafka's DescribeClientQuotas / AlterClientQuotas permissions.
  CHECK(need("GET", "/v1/quotas")[0].operation == AclOperation::kDescribeConfigs);
  CHECK(need("POST", "/v1/quotas")[0].operation == AclOperation::kAlterConfigs);
  CHECK(need("POST", "/v1/scram-users")[0].operation == AclOperation::kAlter);
  CHECK(need("POST", "/v1/topics/orders/partitions/0/reassign")[0].resource_type ==
        ResourceType::kCluster);
  CHECK(need("POST", "/v1/some-future-endpoint")[0].operation == AclOperation::kAlter);
}

TEST_CASE("the REST gate: 401 without a good token, 403 without the permission") {
  Fixture f;
  CHECK(f.status(request("GET", "/v1/health")) == 200);
  CHECK(f.status(request("GET", "/v1/topics")) == 401);
  CHECK(f.status(request("GET", "/v1/topics", "Basic cm9vdDp4")) == 401);
  CHECK(f.status(request("GET", "/v1/topics", "Bearer " + token("root", -120))) == 401);
  CHECK(f.status(request("GET", "/v1/topics",
                         "Bearer " + token("root", 600, "another-secret-0123456789abcdef"))) ==
        401);
  auto refusal = f.auth->check(request("GET", "/v1/topics"));
  REQUIRE(refusal);
  CHECK(refusal->body.find("\"code\":\"unauthorized\"") != std::string::npos);
  CHECK(f.status(request("GET", "/v1/topics", "Bearer " + token("root"))) == 200);
  CHECK(f.status(request("GET", "/v1/topics/t", "Bearer " + token("carol"))) == 403);
  // An ACL applied to the view takes effect on the next request.
  publish_acls(f.view, {{ResourceType::kTopic, "t", security::PatternType::kLiteral, "User:carol",
                         "*", AclOperation::kRead, security::AclPermissionType::kAllow}});
  CHECK(f.status(request("GET", "/v1/topics/t", "Bearer " + token("carol"))) == 200);
  CHECK(f.status(request("DELETE", "/v1/topics/t", "Bearer " + token("carol"))) == 403);
}

TEST_CASE("node-signed requests pass once; a forged or replayed signature does not") {
  Fixture f;
  auto req = request("POST", "/v1/acls");
  req.body = "{}";
  std::string sig = f.auth->node_auth().sign("POST", "/v1/acls", "{}", now_ms());
  req.headers.emplace(std::string(rest::kNodeAuthHeader), sig);
  CHECK(f.status(req) == 200);
  CHECK(f.status(req) == 401);  // replayed
  auto other = request("POST", "/v1/acls");
  other.body = "{\"changed\":1}";
  other.headers.emplace(std::string(rest::kNodeAuthHeader),
                        f.auth->node_auth().sign("POST", "/v1/acls", "{}", now_ms()));
  CHECK(f.status(other) == 401);  // the body is not the one signed
}

TEST_CASE("no gate without the authorizer; a bad super.users is refused") {
  Options options;
  broker::MetadataView view;
  auto none = rest::RestAuth::create(options, view);
  REQUIRE(none.ok());
  CHECK(none.value() == nullptr);
  options.security.authorizer_enabled = true;
  options.security.super_users = "alice";
  CHECK_FALSE(rest::RestAuth::create(options, view).ok());
  options.security.super_users = "";
  CHECK_FALSE(rest::RestAuth::create(options, view).ok());  // no token keys configured
}

TEST_CASE("listings show what the principal may describe; share fetch needs READ on its topics") {
  Fixture f;
  using security::AclPermissionType;
  using security::PatternType;
  auto allow = [](ResourceType type, std::string name, AclOperation op) {
    return security::AclBinding{
        type, std::move(name),          PatternType::kLiteral, "User:carol", "*",
        op,   AclPermissionType::kAllow};
  };
  publish_acls(f.view, {allow(ResourceType::kTopic, "t", AclOperation::kDescribe),
                        allow(ResourceType::kGroup, "g", AclOperation::kRead)});
  auto carol = request("GET", "/v1/topics", "Bearer " + token("carol"));
  CHECK(f.status(carol) == 200);
  auto shown = f.auth->listing_filter(carol);
  REQUIRE(shown);
  CHECK(shown(ResourceType::kTopic, "t"));
  CHECK_FALSE(shown(ResourceType::kTopic, "other"));
  CHECK(shown(ResourceType::kGroup, "g"));  // READ implies DESCRIBE
  CHECK_FALSE(shown(ResourceType::kGroup, "h"));
  auto root = f.auth->listing_filter(request("GET", "/v1/groups", "Bearer " + token("root")));
  REQUIRE(root);
  CHECK(root(ResourceType::kGroup, "h"));
  // A bogus node header does not make a token-less request a node's.
  auto forged = request("GET", "/v1/topics");
  forged.headers.emplace(std::string(rest::kNodeAuthHeader), "v1 node=2,ts=1,nonce=x,sig=y");
  CHECK(f.status(forged) == 401);

  // ShareFetch and ShareAcknowledge: READ on the group and on every topic named.
  auto fetch = request("POST", "/v1/share-groups/g/fetch", "Bearer " + token("carol"));
  fetch.body = R"({"topics":["t"],"max_records":1})";
  CHECK(f.status(fetch) == 403);
  auto ack = request("POST", "/v1/share-groups/g/ack", "Bearer " + token("carol"));
  ack.body = R"({"acks":[{"topic":"t","partition":0,"offset":0,"type":"accept"}]})";
  CHECK(f.status(ack) == 403);
  publish_acls(f.view, {allow(ResourceType::kTopic, "t", AclOperation::kRead),
                        allow(ResourceType::kGroup, "g", AclOperation::kRead)});
  CHECK(f.status(fetch) == 200);
  CHECK(f.status(ack) == 200);
  fetch.body = R"({"topics":["t","u"]})";
  CHECK(f.status(fetch) == 403);
}
