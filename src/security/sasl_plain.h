#pragma once
// SASL PLAIN (RFC 4616), server side, verified against the SCRAM credential
// store so one store serves PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512: the
// password is run through the stored credential's PBKDF2 and compared with
// its stored key in constant time. Pure; any thread, with the store's rule
// (scram.h) for concurrent access.
//
// PLAIN sends the password in the clear: offer it on SASL_SSL listeners only.

#include <string>
#include <string_view>

#include "security/error.h"
#include "security/scram.h"

namespace dmq::security {

// RFC 4616: each field at most 255 bytes.
inline constexpr size_t kPlainMaxFieldBytes = 255;

struct PlainMessage {
  std::string authzid;  // empty when absent
  std::string username;
  std::string password;
};

// Parses "authzid\0authcid\0passwd". kMalformed unless there are exactly two
// NULs and a non-empty user and password; kTooLarge for a field over 255 bytes.
Result<PlainMessage> parse_sasl_plain(std::string_view message);

// Authenticates a parsed message: the user's SCRAM-SHA-512 credential, else
// its SCRAM-SHA-256 one. Returns the user name. kAuthenticationFailed for an
// unknown user or a wrong password (one message for both; an unknown user
// costs the same PBKDF2 work), or an authzid other than the user (as Kafka's
// PlainSaslServer).
Result<std::string> verify_sasl_plain(const ScramCredentialStore& store,
                                      const PlainMessage& message);

}  // namespace dmq::security
