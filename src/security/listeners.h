#pragma once
// Kafka's listener configuration (KIP-103): `listeners`,
// `advertised.listeners` and `listener.security.protocol.map`. Pure parsing
// of operator options; messages quote the offending option text (it is
// configuration, not a secret).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "security/error.h"

namespace dmq::security {

enum class SecurityProtocol { kPlaintext, kSsl, kSaslPlaintext, kSaslSsl };
std::string_view security_protocol_name(SecurityProtocol protocol);  // "SASL_SSL"
// Case-insensitive, as Kafka's SecurityProtocol.forName.
std::optional<SecurityProtocol> parse_security_protocol(std::string_view name);
inline bool uses_tls(SecurityProtocol p) {
  return p == SecurityProtocol::kSsl || p == SecurityProtocol::kSaslSsl;
}
inline bool uses_sasl(SecurityProtocol p) {
  return p == SecurityProtocol::kSaslPlaintext || p == SecurityProtocol::kSaslSsl;
}

struct Listener {
  std::string name;  // upper case, e.g. "INTERNAL"
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  std::string host;   // without IPv6 brackets; empty = every interface
  uint16_t port = 0;  // 0 = an ephemeral port (listeners only)
  friend bool operator==(const Listener&, const Listener&) = default;
};

// Listener name (upper case) -> protocol.
using ProtocolMap = std::map<std::string, SecurityProtocol, std::less<>>;
// "INTERNAL:SSL,EXTERNAL:SASL_SSL"; empty text gives Kafka's default, each
// protocol name mapped to itself. kInvalidConfig for a bad entry, an unknown
// protocol or a repeated name.
Result<ProtocolMap> parse_protocol_map(std::string_view text);

// "PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9093,EXT://[::1]:9094".
// Each name must be in `map`. kInvalidConfig for a missing "://", a bad host,
// a port outside 0-65535, a repeated name, two listeners on one port of one
// address (a wildcard host conflicts with every host), or an empty list.
Result<std::vector<Listener>> parse_listeners(std::string_view text, const ProtocolMap& map);

// advertised.listeners: the same syntax; each name must be a listener's;
// ports 1-65535; the host must be routable (not empty, 0.0.0.0 or ::).
// Empty text: nullopt (advertise the listeners themselves).
Result<std::optional<std::vector<Listener>>> parse_advertised_listeners(
    std::string_view text, const std::vector<Listener>& listeners, const ProtocolMap& map);

}  // namespace dmq::security
