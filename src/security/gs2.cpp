#include "security/gs2.h"

#include "security/scram.h"

namespace dmq::security {

Result<std::string_view> read_gs2_header(std::string_view& message, std::string& authzid) {
  std::string_view start = message;
  auto malformed = [] { return make_error(ErrorCode::kMalformed, "malformed SASL GS2 header"); };
  if (message.starts_with("p=") || message.starts_with("y,")) {
    return make_error(ErrorCode::kUnsupportedMechanism, "SASL channel binding is not supported");
  }
  if (!message.starts_with("n,")) return malformed();
  message.remove_prefix(2);
  if (message.starts_with("a=")) {
    size_t comma = message.find(',');
    if (comma == std::string_view::npos) return malformed();
    auto name = decode_saslname(message.substr(2, comma - 2));
    if (!name) return malformed();
    authzid = std::move(*name);
    message.remove_prefix(comma);
  }
  if (!message.starts_with(",")) return malformed();
  message.remove_prefix(1);
  return start.substr(0, start.size() - message.size());
}

}  // namespace dmq::security
