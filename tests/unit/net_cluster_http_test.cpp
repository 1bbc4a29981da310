#include <doctest/doctest.h>
#include <httplib.h>

#include "net/cluster_http.h"

namespace {

httplib::Request signed_request(const std::string& method, const std::string& target,
                                const std::string& body) {
  httplib::Request req;
  req.method = method;
  req.target = target;
  req.path = target.substr(0, target.find('?'));
  req.body = body;
  for (const auto& [name, value] : dmq::net::cluster_auth_headers(method, target, body))
    req.headers.emplace(name, value);
  return req;
}

dmq::net::ClusterHttpSettings with_secret(int32_t node, std::string secret) {
  dmq::net::ClusterHttpSettings s;
  s.node_id = node;
  s.secret = std::move(secret);
  return s;
}

}  // namespace

TEST_CASE("without a cluster secret requests go unsigned and nothing is checked") {
  dmq::net::configure_cluster_http({});
  CHECK_FALSE(dmq::net::cluster_secret_configured());
  CHECK(dmq::net::cluster_auth_headers("POST", "/internal/raft/messages", "{}").empty());
  httplib::Request req;
  req.method = "POST";
  req.path = req.target = "/internal/raft/messages";
  CHECK_FALSE(dmq::net::check_cluster_request(req).has_value());
  CHECK(dmq::net::cluster_member_token(2).empty());
}

TEST_CASE("a signed request passes once; unsigned, altered and replayed ones get 401") {
  dmq::net::configure_cluster_http(with_secret(2, "0123456789abcdef-cluster"));
  auto req = signed_request("POST", "/internal/brokers/register?x=1", R"({"broker_id":2})");
  CHECK_FALSE(dmq::net::check_cluster_request(req).has_value());

  auto replayed = dmq::net::check_cluster_request(req);
  REQUIRE(replayed.has_value());
  CHECK(replayed->status == 401);
  CHECK(replayed->body.find("cluster_auth_failed") != std::string::npos);

  auto altered = signed_request("POST", "/internal/brokers/register?x=1", R"({"broker_id":2})");
  altered.body = R"({"broker_id":3})";
  CHECK(dmq::net::check_cluster_request(altered)->status == 401);

  auto moved = signed_request("POST", "/internal/partitions/alter", "{}");
  moved.target = "/internal/producer-ids";
  CHECK(dmq::net::check_cluster_request(moved)->status == 401);

  httplib::Request unsigned_req;
  unsigned_req.method = "GET";
  unsigned_req.path = unsigned_req.target = "/internal/raft/entries";
  auto refused = dmq::net::check_cluster_request(unsigned_req);
  REQUIRE(refused.has_value());
  CHECK(refused->body.find("not signed") != std::string::npos);
  CHECK(refused->body.find("0123456789abcdef") == std::string::npos);

  // Another cluster's secret.
  auto foreign = signed_request("GET", "/internal/raft/entries", "");
  dmq::net::configure_cluster_http(with_secret(2, "another-cluster-secret!"));
  CHECK(dmq::net::check_cluster_request(foreign)->status == 401);
  dmq::net::configure_cluster_http({});
}

TEST_CASE("a cluster member token is accepted by the broker it was made for, once") {
  dmq::net::configure_cluster_http(with_secret(3, "0123456789abcdef-cluster"));
  std::string for_node_1 = dmq::net::cluster_member_token(1);
  std::string error;
  CHECK_FALSE(dmq::net::verify_cluster_member_token(for_node_1, 2, &error).has_value());
  CHECK_FALSE(error.empty());
  auto node = dmq::net::verify_cluster_member_token(for_node_1, 1, &error);
  REQUIRE(node.has_value());
  CHECK(*node == 3);
  CHECK_FALSE(dmq::net::verify_cluster_member_token(for_node_1, 1, &error).has_value());
  CHECK_FALSE(dmq::net::verify_cluster_member_token("v1 node=3", 1, &error).has_value());
  dmq::net::configure_cluster_http({});
}
