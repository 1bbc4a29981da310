#include "security/cluster_auth.h"

#include <charconv>

#include "security/crypto.h"

namespace dmq::security {
namespace {

constexpr size_t kNonceBytes = 16;

struct ParsedHeader {
  int32_t node = 0;
  int64_t ts_ms = 0;
  std::string_view nonce;
  std::string signature;
};

std::string canonical(const ClusterRequest& r, int64_t ts_ms, std::string_view nonce,
                      int32_t node) {
  std::string m = "DMQ-CLUSTER-AUTH-V1\n";
  m.append(r.method).append("\n").append(r.target).append("\n");
  m += base64url_encode(hash_digest(HashAlgorithm::kSha256, r.body));
  m += '\n';
  m += std::to_string(ts_ms);
  m += '\n';
  m += nonce;
  m += '\n';
  m += std::to_string(node);
  return m;
}

template <typename Int>
bool read_int(std::string_view text, Int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty() && text[0] != '-';
}

// Takes "name=value" up to the next ',' (or the end) off `rest`.
bool take_field(std::string_view& rest, std::string_view name, std::string_view& value) {
  if (!rest.starts_with(name) || rest.substr(name.size(), 1) != "=") return false;
  rest.remove_prefix(name.size() + 1);
  size_t comma = rest.find(',');
  value = rest.substr(0, comma);
  rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  return !value.empty();
}

Result<ParsedHeader> parse_header(std::string_view h) {
  auto bad = [] { return make_error(ErrorCode::kMalformed, "malformed cluster auth header"); };
  if (h.size() > kClusterAuthMaxHeaderBytes || !h.starts_with("v1 ")) return bad();
  h.remove_prefix(3);
  std::string_view node, ts, nonce, sig;
  if (!take_field(h, "node", node) || !take_field(h, "ts", ts) || !take_field(h, "nonce", nonce) ||
      !take_field(h, "sig", sig) || !h.empty()) {
    return bad();
  }
  ParsedHeader out;
  auto nonce_bytes = base64url_decode(nonce);
  auto sig_bytes = base64url_decode(sig);
  if (!read_int(node, out.node) || !read_int(ts, out.ts_ms) || !nonce_bytes ||
      nonce_bytes->size() != kNonceBytes || !sig_bytes) {
    return bad();
  }
  out.nonce = nonce;
  out.signature = std::move(*sig_bytes);
  return out;
}

bool has_newline(const ClusterRequest& r) {
  return r.method.find('\n') != std::string_view::npos ||
         r.target.find('\n') != std::string_view::npos;
}

}  // namespace

std::string sign_cluster_request(std::string_view secret, const ClusterRequest& request,
                                 int32_t sender_node_id, int64_t now_ms, RandomSource& random) {
  DMQ_ASSERT(!secret.empty());
  DMQ_ASSERT(!has_newline(request));
  DMQ_ASSERT(sender_node_id >= 0);
  std::string nonce = base64url_encode(random.bytes(kNonceBytes));
  std::string mac =
      hmac(HashAlgorithm::kSha256, secret, canonical(request, now_ms, nonce, sender_node_id));
  return "v1 node=" + std::to_string(sender_node_id) + ",ts=" + std::to_string(now_ms) +
         ",nonce=" + nonce + ",sig=" + base64url_encode(mac);
}

ClusterRequestVerifier::ClusterRequestVerifier(std::string secret, int64_t window_ms,
                                               size_t max_remembered)
    : secret_(std::move(secret)), window_ms_(window_ms), max_remembered_(max_remembered) {
  DMQ_ASSERT(!secret_.empty());
  DMQ_ASSERT(window_ms_ > 0);
  DMQ_ASSERT(max_remembered_ > 0);
}

void ClusterRequestVerifier::forget_expired(int64_t now_ms) {
  while (!expiries_.empty() && expiries_.begin()->first < now_ms) {
    seen_.erase(expiries_.begin()->second);
    expiries_.erase(expiries_.begin());
  }
}

Result<int32_t> ClusterRequestVerifier::verify(const ClusterRequest& request,
                                               std::string_view header_value, int64_t now_ms) {
  auto parsed = parse_header(header_value);
  if (!parsed) return parsed.error();
  if (has_newline(request)) return make_error(ErrorCode::kMalformed, "newline in request line");
  const ParsedHeader& h = parsed.value();
  if (h.ts_ms < now_ms - window_ms_ || h.ts_ms > now_ms + window_ms_) {
    return make_error(ErrorCode::kStaleTimestamp, "cluster request timestamp outside the window");
  }
  std::string expected =
      hmac(HashAlgorithm::kSha256, secret_, canonical(request, h.ts_ms, h.nonce, h.node));
  if (!constant_time_equal(expected, h.signature)) {
    return make_error(ErrorCode::kBadSignature, "cluster request signature does not verify");
  }
  // Only signed requests reach the cache, so outsiders cannot fill it.
  std::lock_guard lock(mu_);
  forget_expired(now_ms);
  std::string key = std::to_string(h.node) + "/" + std::string(h.nonce);
  if (seen_.count(key) > 0) return make_error(ErrorCode::kReplayed, "cluster request replayed");
  if (seen_.size() >= max_remembered_) {
    return make_error(ErrorCode::kReplayCacheFull, "too many cluster requests in the window");
  }
  // Remember it while its timestamp could still pass the window check.
  expiries_.emplace(h.ts_ms + window_ms_, key);
  seen_.insert(std::move(key));
  return h.node;
}

}  // namespace dmq::security
