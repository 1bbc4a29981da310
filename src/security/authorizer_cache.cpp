#include "security/authorizer_cache.h"

namespace dmq::security {

Authorizer build_authorizer(const AuthorizerConfig& config, const EncodedAcls& encoded) {
  Authorizer authorizer(config);
  for (const std::string& bytes : encoded) {
    auto binding = decode_acl_binding(bytes);
    if (binding) (void)authorizer.add(binding.value());
  }
  return authorizer;
}

std::shared_ptr<const Authorizer> AuthorizerCache::get(std::shared_ptr<const void> owner,
                                                       const EncodedAcls& encoded) {
  std::lock_guard lock(mutex_);
  if (current_ && owner == owner_) return current_;
  if (!current_ || encoded != source_) {
    current_ = std::make_shared<const Authorizer>(build_authorizer(config_, encoded));
    source_ = encoded;
  }
  owner_ = std::move(owner);
  return current_;
}

}  // namespace dmq::security
