#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "security/cluster_auth.h"
#include "security/cluster_secret.h"
#include "security_test_util.h"

using namespace dmq::security;
using dmq::security::test::SeededRandom;

namespace {

const std::string kSecret = "a-cluster-secret-of-32-bytes!!!!";
constexpr int64_t kNow = 1'700'000'000'000;
const ClusterRequest kRequest{"POST", "/internal/raft?from=2", "{\"term\":3}"};

std::string temp_file(const std::string& contents, mode_t mode) {
  char path[] = "/tmp/dmq-secret-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()));
  close(fd);
  chmod(path, mode);
  return path;
}

}  // namespace

TEST_CASE("a signed cluster request verifies once and names its sender") {
  SeededRandom random(1);
  ClusterRequestVerifier verifier(kSecret);
  std::string header = sign_cluster_request(kSecret, kRequest, 2, kNow, random);
  CHECK(header.starts_with("v1 node=2,ts=1700000000000,nonce="));
  CHECK(header.find(kSecret) == std::string::npos);
  auto sender = verifier.verify(kRequest, header, kNow + 1000);
  REQUIRE(sender.ok());
  CHECK(sender.value() == 2);
  CHECK(verifier.verify(kRequest, header, kNow + 2000).error().code == ErrorCode::kReplayed);
  // A second request with a fresh nonce passes.
  CHECK(verifier.verify(kRequest, sign_cluster_request(kSecret, kRequest, 2, kNow, random), kNow)
            .ok());
}

TEST_CASE("cluster request refusals: tampering, wrong secret, stale or future timestamps") {
  SeededRandom random(2);
  ClusterRequestVerifier verifier(kSecret);
  auto sign = [&](const ClusterRequest& r, int64_t ts) {
    return sign_cluster_request(kSecret, r, 2, ts, random);
  };
  std::string header = sign(kRequest, kNow);
  for (ClusterRequest other : {ClusterRequest{"GET", kRequest.target, kRequest.body},
                               ClusterRequest{"POST", "/internal/raft?from=3", kRequest.body},
                               ClusterRequest{"POST", kRequest.target, "{\"term\":4}"}}) {
    CHECK(verifier.verify(other, header, kNow).error().code == ErrorCode::kBadSignature);
  }
  std::string forged_node = header;
  forged_node.replace(forged_node.find("node=2"), 6, "node=3");
  CHECK(verifier.verify(kRequest, forged_node, kNow).error().code == ErrorCode::kBadSignature);
  CHECK(
      verifier
          .verify(kRequest,
                  sign_cluster_request("another-secret-of-some-length", kRequest, 2, kNow, random),
                  kNow)
          .error()
          .code == ErrorCode::kBadSignature);
  CHECK(verifier.verify(kRequest, sign(kRequest, kNow - 30'001), kNow).error().code ==
        ErrorCode::kStaleTimestamp);
  CHECK(verifier.verify(kRequest, sign(kRequest, kNow + 30'001), kNow).error().code ==
        ErrorCode::kStaleTimestamp);
  CHECK(verifier.verify(kRequest, sign(kRequest, kNow - 30'000), kNow).ok());
}

TEST_CASE("cluster auth header syntax is strict") {
  ClusterRequestVerifier verifier(kSecret);
  SeededRandom random(3);
  std::string good = sign_cluster_request(kSecret, kRequest, 2, kNow, random);
  for (std::string bad :
       {std::string(""), std::string("v2") + good.substr(2), good + ",x=1", good.substr(3),
        std::string("v1 ts=1,node=2,nonce=AAAAAAAAAAAAAAAAAAAAAA,sig=AA"),
        std::string("v1 node=-2,ts=1,nonce=AAAAAAAAAAAAAAAAAAAAAA,sig=AA"),
        std::string("v1 node=2,ts=1,nonce=AAAA,sig=AA"), std::string(300, 'v')}) {
    CAPTURE(bad);
    CHECK(verifier.verify(kRequest, bad, kNow).error().code == ErrorCode::kMalformed);
  }
  ClusterRequest newline{"POST", "/a\nb", ""};
  CHECK(verifier.verify(newline, good, kNow).error().code == ErrorCode::kMalformed);
}

TEST_CASE("the replay cache forgets expired nonces and refuses when full") {
  SeededRandom random(4);
  ClusterRequestVerifier verifier(kSecret, kClusterAuthWindowMs, 2);
  CHECK(verifier.verify(kRequest, sign_cluster_request(kSecret, kRequest, 1, kNow, random), kNow)
            .ok());
  CHECK(verifier.verify(kRequest, sign_cluster_request(kSecret, kRequest, 1, kNow, random), kNow)
            .ok());
  std::string third = sign_cluster_request(kSecret, kRequest, 1, kNow, random);
  CHECK(verifier.verify(kRequest, third, kNow).error().code == ErrorCode::kReplayCacheFull);
  // Once the first two are out of the window, there is room again.
  int64_t later = kNow + kClusterAuthWindowMs + 1;
  CHECK(verifier.verify(kRequest, sign_cluster_request(kSecret, kRequest, 1, later, random), later)
            .ok());
}

TEST_CASE("the cluster secret loader refuses unsafe or empty files") {
  std::string good = temp_file(kSecret + "\n", 0600);
  auto loaded = load_cluster_secret(good);
  REQUIRE(loaded.ok());
  CHECK(loaded.value() == kSecret);
  std::string group_readable = temp_file(kSecret, 0640);
  auto refused = load_cluster_secret(group_readable);
  CHECK(refused.error().code == ErrorCode::kFileError);
  CHECK(refused.error().message.find(group_readable) != std::string::npos);
  CHECK(refused.error().message.find(kSecret) == std::string::npos);
  CHECK_FALSE(load_cluster_secret(temp_file(kSecret, 0604)).ok());
  CHECK_FALSE(load_cluster_secret(temp_file("", 0600)).ok());
  CHECK_FALSE(load_cluster_secret(temp_file(" \n", 0600)).ok());
  CHECK_FALSE(load_cluster_secret(temp_file("short", 0600)).ok());
  CHECK_FALSE(load_cluster_secret(temp_file(std::string(5000, 's'), 0600)).ok());
  CHECK_FALSE(load_cluster_secret("/nonexistent/dmq-secret").ok());
  CHECK_FALSE(load_cluster_secret("/tmp").ok());
  for (const std::string& p : {good, group_readable}) std::remove(p.c_str());
}
