#pragma once
// The keys bearer tokens are checked with, from the options OAUTHBEARER and
// REST authentication share: an HS256 secret file
// (--sasl.oauthbearer.hs256.secret.file, read once) and a JWKS file
// (--sasl.oauthbearer.jwks.endpoint.url, file:// only), re-read at most once
// a second when its modification time or size changed. A JWKS that no longer
// parses keeps the previous keys (and logs why).
//
// Threads: any; keys() locks briefly. The returned set is immutable.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "security/error.h"
#include "security/jwt.h"

namespace dmq::security {

class JwtKeySource {
 public:
  // kInvalidConfig / kFileError naming the option; kInvalidConfig when
  // neither option is set.
  static Result<std::shared_ptr<JwtKeySource>> open(const std::string& hs256_secret_file,
                                                    const std::string& jwks_url);

  std::shared_ptr<const JwtKeySet> keys(int64_t now_ms);

 private:
  JwtKeySource() = default;
  void maybe_reload(int64_t now_ms);

  std::mutex mutex_;
  std::shared_ptr<const JwtKeySet> static_keys_;
  std::string jwks_path_;
  std::shared_ptr<const JwtKeySet> keys_;
  int64_t checked_ms_ = INT64_MIN;
  int64_t mtime_ns_ = -1;
  int64_t size_ = -1;
};

}  // namespace dmq::security
