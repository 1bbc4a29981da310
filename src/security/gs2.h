#pragma once
// Internal: the GS2 header that starts SCRAM and OAUTHBEARER client messages
// (RFC 5801 §4): "n,," or "n,a=<saslname>,". Channel binding ("p=...", "y,")
// is refused: DMQ offers no channel-binding mechanism (like Kafka).

#include <string>
#include <string_view>

#include "security/error.h"

namespace dmq::security {

// Reads the header off the front of `message` and returns it (as sent);
// `authzid` receives the decoded authorization id, or stays empty.
// kUnsupportedMechanism for channel binding, kMalformed otherwise.
Result<std::string_view> read_gs2_header(std::string_view& message, std::string& authzid);

}  // namespace dmq::security
