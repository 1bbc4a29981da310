#pragma once
// The Authorizer of the ACL bindings a node's metadata image holds (the
// controllers' AclRecords, in encode_acl_binding's form), rebuilt only when
// that set changes. Every broker and every REST endpoint asks it, so an ACL
// change takes effect on a node as soon as its metadata copy applies it.
//
// Threads: any. get() locks briefly; the Authorizer it returns is immutable
// and may be used without the lock while newer ones are built.

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "security/authorizer.h"

namespace dmq::security {

using EncodedAcls = std::set<std::string, std::less<>>;

class AuthorizerCache {
 public:
  explicit AuthorizerCache(AuthorizerConfig config) : config_(std::move(config)) {}

  // `owner` keeps `encoded` alive (the image holding it) and names it: the
  // same owner as last time answers from the cache without comparing sets.
  // Bindings that do not decode are skipped (a newer node's format).
  std::shared_ptr<const Authorizer> get(std::shared_ptr<const void> owner,
                                        const EncodedAcls& encoded);
  const AuthorizerConfig& config() const { return config_; }

 private:
  const AuthorizerConfig config_;
  std::mutex mutex_;
  std::shared_ptr<const void> owner_;
  EncodedAcls source_;
  std::shared_ptr<const Authorizer> current_;
};

// Builds an Authorizer from encoded bindings, skipping undecodable ones.
Authorizer build_authorizer(const AuthorizerConfig& config, const EncodedAcls& encoded);

}  // namespace dmq::security
