#pragma once
// Kafka's ssl.principal.mapping.rules (KIP-371, SslPrincipalMapper): turns a
// client certificate's subject, as an RFC 2253 string ("CN=alice,O=Acme"),
// into the name of its principal. The same rules serve the Kafka SSL
// listeners and HTTPS (REST requests authenticated by a client certificate).
//
// Syntax, as Kafka's: a comma-separated list of rules tried in order,
//   DEFAULT                         the subject unchanged (Kafka's default)
//   RULE:<regex>/<replacement>/[L|U]
// A RULE applies when <regex> matches the whole subject; the answer is
// <replacement> with $1.. replaced by the groups, lower- or upper-cased
// with L or U. In <regex> and <replacement> "\/" stands for "/". A subject
// no rule applies to (or one mapped to an empty name) is refused, as Kafka
// refuses it ("No rules apply").
//
// Pure; an instance is immutable and may be shared by any threads.

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "security/error.h"

namespace dmq::security {

class SslPrincipalMapper {
 public:
  // Longer subjects are refused before any rule runs.
  static constexpr size_t kMaxSubjectBytes = 1024;

  // "" means DEFAULT. kInvalidConfig naming the bad rule's position.
  static Result<SslPrincipalMapper> parse(std::string_view rules);

  // The principal's name (without "User:"); kAuthenticationFailed when no
  // rule applies.
  Result<std::string> name_of(std::string_view subject) const;

 private:
  struct Rule {
    bool is_default = false;
    std::regex pattern;
    std::string replacement;
    char case_fold = 0;  // 0, 'L' or 'U'
  };
  std::vector<Rule> rules_;
};

}  // namespace dmq::security
