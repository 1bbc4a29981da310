#pragma once
// Authentication of node-to-node HTTP traffic (controller RPC, broker
// registration and heartbeats, metadata tailing) when mTLS is not used: each
// request carries an HMAC-SHA256, keyed with the shared cluster secret
// (--cluster.secret.file, see cluster_secret.h), over
//
//   "DMQ-CLUSTER-AUTH-V1" \n method \n target \n base64url(SHA-256(body)) \n
//   timestamp_ms \n nonce \n sender_node_id
//
// in the header  X-DMQ-Cluster-Auth: v1 node=<id>,ts=<ms>,nonce=<b64url>,sig=<b64url>
//
// `target` is the request target as sent (path and query). The receiver
// accepts a timestamp within ±window of its own clock and each (node, nonce)
// once while that timestamp is in the window, so a captured request cannot be
// replayed. Time is passed in; randomness is injected.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "security/error.h"
#include "security/random.h"

namespace dmq::security {

inline constexpr std::string_view kClusterAuthHeader = "X-DMQ-Cluster-Auth";
inline constexpr int64_t kClusterAuthWindowMs = 30'000;
inline constexpr size_t kClusterAuthMaxHeaderBytes = 256;

struct ClusterRequest {
  std::string_view method;  // "POST"
  std::string_view target;  // "/internal/raft?x=1"
  std::string_view body;
};

// The header value for a request sent by `sender_node_id` at now_ms. Method
// and target must not contain a newline (programmer error). Any thread.
std::string sign_cluster_request(std::string_view secret, const ClusterRequest& request,
                                 int32_t sender_node_id, int64_t now_ms, RandomSource& random);

// Thread-safe (one mutex around the replay cache): HTTP handler threads may
// call verify() concurrently.
class ClusterRequestVerifier {
 public:
  // `secret` non-empty; `max_remembered` bounds the replay cache.
  explicit ClusterRequestVerifier(std::string secret, int64_t window_ms = kClusterAuthWindowMs,
                                  size_t max_remembered = 65536);

  // The sender's node id when the header is well formed, fresh, correctly
  // signed and not a replay. Errors: kMalformed (header syntax, or a newline
  // in method/target), kStaleTimestamp, kBadSignature, kReplayed,
  // kReplayCacheFull (more requests in one window than can be remembered:
  // refused rather than risk a replay).
  Result<int32_t> verify(const ClusterRequest& request, std::string_view header_value,
                         int64_t now_ms);

 private:
  void forget_expired(int64_t now_ms);

  const std::string secret_;
  const int64_t window_ms_;
  const size_t max_remembered_;
  std::mutex mu_;
  std::unordered_set<std::string> seen_;          // "node/nonce"
  std::multimap<int64_t, std::string> expiries_;  // forget time -> key in seen_
};

}  // namespace dmq::security
