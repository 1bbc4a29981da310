#include "security/jwt_key_source.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "security/cluster_secret.h"

namespace dmq::security {
namespace {

constexpr int64_t kCheckIntervalMs = 1000;

}  // namespace

Result<std::shared_ptr<JwtKeySource>> JwtKeySource::open(const std::string& hs256_secret_file,
                                                         const std::string& jwks_url) {
  std::shared_ptr<JwtKeySource> source(new JwtKeySource());
  auto keys = std::make_shared<JwtKeySet>();
  if (!hs256_secret_file.empty()) {
    auto secret = load_cluster_secret(hs256_secret_file);
    if (!secret) {
      return make_error(secret.error().code,
                        "--sasl.oauthbearer.hs256.secret.file: " + secret.error().message);
    }
    auto key = JwtKey::hmac(std::move(secret).value());
    if (!key) {
      return make_error(key.error().code,
                        "--sasl.oauthbearer.hs256.secret.file: " + key.error().message);
    }
    keys->add(std::move(key).value());
  }
  source->static_keys_ = keys;
  source->keys_ = keys;
  if (!jwks_url.empty()) {
    if (jwks_url.rfind("file://", 0) != 0) {
      return make_error(ErrorCode::kInvalidConfig,
                        "--sasl.oauthbearer.jwks.endpoint.url: only file:// URLs are supported");
    }
    source->jwks_path_ = jwks_url.substr(7);
  }
  if (keys->keys().empty() && source->jwks_path_.empty()) {
    return make_error(ErrorCode::kInvalidConfig,
                      "bearer tokens need --sasl.oauthbearer.jwks.endpoint.url or "
                      "--sasl.oauthbearer.hs256.secret.file");
  }
  source->maybe_reload(0);
  return source;
}

std::shared_ptr<const JwtKeySet> JwtKeySource::keys(int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (now_ms - checked_ms_ >= kCheckIntervalMs) maybe_reload(now_ms);
  return keys_;
}

void JwtKeySource::maybe_reload(int64_t now_ms) {
  checked_ms_ = now_ms;
  if (jwks_path_.empty()) return;
  struct stat st {};
  if (::stat(jwks_path_.c_str(), &st) != 0) return;
  const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (mtime_ns == mtime_ns_ && st.st_size == size_) return;
  mtime_ns_ = mtime_ns;
  size_ = st.st_size;
  std::ifstream in(jwks_path_, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parse_jwks(text.str());
  if (!parsed) {
    LOG_WARN("security") << "keeping the previous bearer-token keys: " << jwks_path_ << ": "
                         << parsed.error().message;
    return;
  }
  for (const auto& why : parsed.value().skipped) LOG_INFO("security") << "JWKS: " << why;
  auto keys = std::make_shared<JwtKeySet>(std::move(parsed.value().keys));
  for (const auto& k : static_keys_->keys()) keys->add(k);
  keys_ = std::move(keys);
  LOG_INFO("security") << "loaded " << keys_->keys().size() << " bearer-token key(s) from "
                       << jwks_path_;
}

}  // namespace dmq::security
