#include "security/sasl_plain.h"

namespace dmq::security {

Result<PlainMessage> parse_sasl_plain(std::string_view message) {
  if (message.size() > 3 * kPlainMaxFieldBytes + 2) {
    return make_error(ErrorCode::kTooLarge, "SASL PLAIN message too large");
  }
  size_t first = message.find('\0');
  size_t second = first == std::string_view::npos ? first : message.find('\0', first + 1);
  if (second == std::string_view::npos ||
      message.find('\0', second + 1) != std::string_view::npos) {
    return make_error(ErrorCode::kMalformed, "SASL PLAIN message must have three fields");
  }
  std::string_view authzid = message.substr(0, first);
  std::string_view user = message.substr(first + 1, second - first - 1);
  std::string_view password = message.substr(second + 1);
  if (authzid.size() > kPlainMaxFieldBytes || user.size() > kPlainMaxFieldBytes ||
      password.size() > kPlainMaxFieldBytes) {
    return make_error(ErrorCode::kTooLarge, "SASL PLAIN field over 255 bytes");
  }
  if (user.empty() || password.empty()) {
    return make_error(ErrorCode::kMalformed, "SASL PLAIN user name and password are required");
  }
  return PlainMessage{std::string(authzid), std::string(user), std::string(password)};
}

Result<std::string> verify_sasl_plain(const ScramCredentialStore& store,
                                      const PlainMessage& message) {
  if (!message.authzid.empty() && message.authzid != message.username) {
    return make_error(ErrorCode::kAuthenticationFailed,
                      "authentication failed: authorization id differs from the user name");
  }
  ScramMechanism mechanism = ScramMechanism::kSha512;
  if (!store.find(message.username, mechanism)) mechanism = ScramMechanism::kSha256;
  // An unknown user gets a fake SHA-256 credential: same work, same answer.
  auto lookup = store.find_or_fake(message.username, mechanism);
  bool match = scram_password_matches(mechanism, lookup.credential, message.password);
  if (!match || !lookup.found) {
    return make_error(ErrorCode::kAuthenticationFailed,
                      "authentication failed: invalid credentials with SASL mechanism PLAIN");
  }
  return message.username;
}

}  // namespace dmq::security
