#include "security/listeners.h"

#include <charconv>

namespace dmq::security {
namespace {

Error bad(std::string what) {
  return make_error(ErrorCode::kInvalidConfig, std::move(what));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Comma-separated entries, trimmed; empty ones kept so callers can refuse them.
std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> out;
  while (true) {
    size_t comma = text.find(',');
    out.push_back(trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

std::optional<std::string> normalized_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return std::nullopt;
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return std::nullopt;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  }
  return out;
}

// "'text'" for messages (built by appending: GCC 12 warns falsely on "'" + s + "'").
std::string quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

bool valid_host(std::string_view host, bool bracketed) {
  if (host.size() > 253) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '%' || (bracketed && c == ':');
    if (!ok) return false;
  }
  return !bracketed || !host.empty();
}

bool is_wildcard_host(std::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

// One "NAME://host:port" entry.
Result<Listener> parse_entry(std::string_view entry, const ProtocolMap& map) {
  std::string quoted = quote(entry);
  size_t sep = entry.find("://");
  if (sep == std::string_view::npos) return bad("listener " + quoted + " lacks NAME://");
  auto name = normalized_name(entry.substr(0, sep));
  if (!name) return bad("listener " + quoted + " has a bad name");
  auto proto = map.find(*name);
  if (proto == map.end()) {
    return bad("listener " + quoted +
               ": name is not a security protocol nor in listener.security.protocol.map");
  }
  std::string_view address = entry.substr(sep + 3);
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return bad("listener " + quoted + " lacks :port");
  std::string_view host = address.substr(0, colon);
  std::string_view port_text = address.substr(colon + 1);
  bool bracketed = host.starts_with('[') && host.ends_with(']') && host.size() >= 2;
  if (bracketed) host = host.substr(1, host.size() - 2);
  if (!valid_host(host, bracketed)) return bad("listener " + quoted + " has a bad host");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad("listener " + quoted + " has a bad port (0-65535)");
  }
  return Listener{*name, proto->second, std::string(host), static_cast<uint16_t>(port)};
}

Result<std::vector<Listener>> parse_list(std::string_view text, const ProtocolMap& map,
                                         std::string_view option) {
  std::vector<Listener> out;
  if (trim(text).empty()) return bad(std::string(option) + " is empty");
  for (std::string_view entry : split_list(text)) {
    if (entry.empty()) return bad(std::string(option) + " has an empty entry");
    auto l = parse_entry(entry, map);
    if (!l) return l.error();
    for (const Listener& other : out) {
      if (other.name == l.value().name) {
        return bad(std::string(option) + " names " + other.name + " twice");
      }
    }
    out.push_back(std::move(l).value());
  }
  return out;
}

}  // namespace

std::string_view security_protocol_name(SecurityProtocol p) {
  switch (p) {
    case SecurityProtocol::kPlaintext:
      return "PLAINTEXT";
    case SecurityProtocol::kSsl:
      return "SSL";
    case SecurityProtocol::kSaslPlaintext:
      return "SASL_PLAINTEXT";
    case SecurityProtocol::kSaslSsl:
      return "SASL_SSL";
  }
  return "?";
}

std::optional<SecurityProtocol> parse_security_protocol(std::string_view name) {
  auto upper = normalized_name(name);
  for (auto p : {SecurityProtocol::kPlaintext, SecurityProtocol::kSsl,
                 SecurityProtocol::kSaslPlaintext, SecurityProtocol::kSaslSsl}) {
    if (upper && *upper == security_protocol_name(p)) return p;
  }
  return std::nullopt;
}

Result<ProtocolMap> parse_protocol_map(std::string_view text) {
  ProtocolMap map;
  if (trim(text).empty()) {
    for (auto p : {SecurityProtocol::kPlaintext, SecurityProtocol::kSsl,
                   SecurityProtocol::kSaslPlaintext, SecurityProtocol::kSaslSsl}) {
      map.emplace(security_protocol_name(p), p);
    }
    return map;
  }
  for (std::string_view entry : split_list(text)) {
    std::string quoted = quote(entry);
    size_t colon = entry.find(':');
    auto name = normalized_name(entry.substr(0, colon));
    auto proto = colon == std::string_view::npos ? std::nullopt
                                                 : parse_security_protocol(entry.substr(colon + 1));
    if (!name || !proto) {
      return bad("listener.security.protocol.map entry " + quoted + " is not NAME:PROTOCOL");
    }
    if (!map.emplace(*name, *proto).second) {
      return bad("listener.security.protocol.map names " + *name + " twice");
    }
  }
  return map;
}

Result<std::vector<Listener>> parse_listeners(std::string_view text, const ProtocolMap& map) {
  auto list = parse_list(text, map, "listeners");
  if (!list) return list;
  const auto& ls = list.value();
  for (size_t i = 0; i < ls.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      bool same_address =
          ls[i].host == ls[j].host || is_wildcard_host(ls[i].host) || is_wildcard_host(ls[j].host);
      if (ls[i].port != 0 && ls[i].port == ls[j].port && same_address) {
        return bad("listeners " + ls[j].name + " and " + ls[i].name + " share port " +
                   std::to_string(ls[i].port));
      }
    }
  }
  return list;
}

Result<std::optional<std::vector<Listener>>> parse_advertised_listeners(
    std::string_view text, const std::vector<Listener>& listeners, const ProtocolMap& map) {
  if (trim(text).empty()) return std::optional<std::vector<Listener>>{};
  auto list = parse_list(text, map, "advertised.listeners");
  if (!list) return list.error();
  for (const Listener& a : list.value()) {
    bool known = false;
    for (const Listener& l : listeners) known = known || l.name == a.name;
    if (!known) return bad("advertised listener " + a.name + " is not in listeners");
    if (a.port == 0) return bad("advertised listener " + a.name + " needs a port (1-65535)");
    if (is_wildcard_host(a.host)) {
      return bad("advertised listener " + a.name + " cannot use a wildcard or empty host");
    }
  }
  return std::optional<std::vector<Listener>>{std::move(list).value()};
}

}  // namespace dmq::security
