// SCRAM message parsers (RFC 5802 §7), strict: anything outside the grammar
// is refused. Kafka's extensions (KIP-48 "tokenauth") are the only ones known.
#include <set>

#include "common/base64.h"
#include "security/gs2.h"
#include "security/scram.h"

namespace dmq::security {
namespace {

Error malformed(std::string what) {
  return make_error(ErrorCode::kMalformed, "malformed SCRAM message: " + what);
}

// Splits on ','; keeps empty parts so the caller can refuse them.
std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    text.remove_prefix(comma + 1);
  }
}

// RFC 5802 "printable": %x21-2B / %x2D-7E.
bool is_printable_nonce(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

bool is_alpha_key(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

// "k=v" with an alphabetic key and a value without ','; nullopt otherwise.
std::optional<std::pair<std::string_view, std::string_view>> split_attribute(
    std::string_view part) {
  size_t eq = part.find('=');
  if (eq == std::string_view::npos || !is_alpha_key(part.substr(0, eq))) return std::nullopt;
  return std::pair{part.substr(0, eq), part.substr(eq + 1)};
}

std::optional<std::string_view> attribute(std::string_view part, char name) {
  if (part.size() < 2 || part[0] != name || part[1] != '=') return std::nullopt;
  return part.substr(2);
}

Status read_extensions(const std::vector<std::string_view>& parts, size_t from,
                       ScramClientFirst& out) {
  std::set<std::string_view> seen;
  for (size_t i = from; i < parts.size(); ++i) {
    auto kv = split_attribute(parts[i]);
    if (!kv || kv->second.empty()) return malformed("bad extension");
    if (!seen.insert(kv->first).second) return malformed("repeated extension");
    if (kv->first != "tokenauth") {
      return make_error(ErrorCode::kUnsupportedMechanism, "unsupported SCRAM extension");
    }
    out.token_auth = kv->second == "true";
  }
  return Ok{};
}

}  // namespace

std::optional<std::string> decode_saslname(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ',' || c == '\0') return std::nullopt;
    if (c != '=') {
      out += c;
      continue;
    }
    std::string_view esc = text.substr(i + 1, 2);
    if (esc == "2C") {
      out += ',';
    } else if (esc == "3D") {
      out += '=';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

std::string encode_saslname(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

Result<ScramClientFirst> parse_scram_client_first(std::string_view message) {
  if (message.size() > kScramMaxMessageBytes) {
    return make_error(ErrorCode::kTooLarge, "SCRAM message too large");
  }
  ScramClientFirst out;
  auto header = read_gs2_header(message, out.authzid);
  if (!header) return header.error();
  out.gs2_header = std::string(header.value());
  out.bare = std::string(message);
  auto parts = split_commas(message);
  if (parts[0].starts_with("m=")) {
    return make_error(ErrorCode::kUnsupportedMechanism, "SCRAM mandatory extensions unsupported");
  }
  if (parts.size() < 2) return malformed("missing attributes");
  auto user = attribute(parts[0], 'n');
  auto nonce = attribute(parts[1], 'r');
  if (!user || !nonce) return malformed("expected n= then r=");
  auto name = decode_saslname(*user);
  if (!name) return malformed("bad user name");
  if (!is_printable_nonce(*nonce)) return malformed("bad nonce");
  out.username = std::move(*name);
  out.client_nonce = std::string(*nonce);
  if (auto s = read_extensions(parts, 2, out); !s) return s.error();
  return out;
}

Result<ScramClientFinal> parse_scram_client_final(std::string_view message) {
  if (message.size() > kScramMaxMessageBytes) {
    return make_error(ErrorCode::kTooLarge, "SCRAM message too large");
  }
  auto parts = split_commas(message);
  if (parts.size() < 3) return malformed("missing attributes");
  auto cbind = attribute(parts[0], 'c');
  auto nonce = attribute(parts[1], 'r');
  auto proof = attribute(parts.back(), 'p');
  if (!cbind || !nonce || !proof) return malformed("expected c=, r=, ..., p=");
  for (size_t i = 2; i + 1 < parts.size(); ++i) {
    if (!split_attribute(parts[i])) return malformed("bad extension");
  }
  auto cb = base64_decode(*cbind);
  auto pr = base64_decode(*proof);
  if (!cb || !pr) return malformed("bad base64");
  if (!is_printable_nonce(*nonce)) return malformed("bad nonce");
  ScramClientFinal out;
  out.channel_binding = std::move(*cb);
  out.nonce = std::string(*nonce);
  out.proof = std::move(*pr);
  out.without_proof = std::string(message.substr(0, message.size() - parts.back().size() - 1));
  return out;
}

}  // namespace dmq::security
