#pragma once
// SCRAM-SHA-256 and SCRAM-SHA-512, server side (RFC 5802, RFC 7677), as Kafka
// implements them (KIP-84), plus the credential records they verify against.
//
// Pure: no I/O, no clock; randomness comes from the RandomSource passed in.
// A ScramServer serves one SASL exchange on one connection and is used from
// that connection's thread only. The ScramCredentialStore is read by many
// exchanges; it is not synchronized, so it is read and written on one thread
// (the Kafka loop), or the caller wraps it.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "security/crypto.h"
#include "security/error.h"
#include "security/random.h"

namespace dmq::security {

enum class ScramMechanism { kSha256, kSha512 };
// "SCRAM-SHA-256" / "SCRAM-SHA-512", the SASL mechanism names.
std::string_view scram_mechanism_name(ScramMechanism mechanism);
std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name);
HashAlgorithm scram_hash(ScramMechanism mechanism);

// Kafka's bounds (ScramMechanism.minIterations / maxIterations).
inline constexpr int kScramMinIterations = 4096;
inline constexpr int kScramMaxIterations = 16384;
// Bounds on what a client may send; longer input is refused unparsed.
inline constexpr size_t kScramMaxMessageBytes = 4096;
inline constexpr size_t kScramMaxSaltBytes = 1024;

// What the server keeps per (user, mechanism): never the password.
// stored_key = H(HMAC(salted, "Client Key")), server_key = HMAC(salted, "Server Key"),
// salted = PBKDF2-HMAC(password, salt, iterations). Keys are digest-sized raw bytes.
struct ScramCredential {
  std::string salt;
  std::string stored_key;
  std::string server_key;
  int iterations = kScramMinIterations;
  friend bool operator==(const ScramCredential&, const ScramCredential&) = default;
};

// For REST user creation: a fresh 32-byte random salt. kInvalidConfig for
// iterations outside [4096, 16384] or an empty password.
Result<ScramCredential> make_scram_credential(ScramMechanism mechanism, std::string_view password,
                                              int iterations, RandomSource& random);
// Deterministic variant (known salt), e.g. for test vectors.
Result<ScramCredential> scram_credential_from_password(ScramMechanism mechanism,
                                                       std::string_view password,
                                                       std::string_view salt, int iterations);
// AlterUserScramCredentials carries the salt, the iterations and the client's
// salted password (never the password); this derives the record from them.
Result<ScramCredential> scram_credential_from_salted_password(ScramMechanism mechanism,
                                                              std::string_view salt,
                                                              std::string_view salted_password,
                                                              int iterations);
// True when `password` derives `credential` (PBKDF2 + constant-time compare).
// Costs `iterations` HMACs: ~1-5 ms at 4096.
bool scram_password_matches(ScramMechanism mechanism, const ScramCredential& credential,
                            std::string_view password);

// RFC 5802 §3: the proof is good when H(proof XOR HMAC(StoredKey, AuthMessage))
// equals StoredKey (compared in constant time). Returns the ServerSignature
// HMAC(ServerKey, AuthMessage) when it is, nullopt otherwise.
std::optional<std::string> scram_verify_proof(ScramMechanism mechanism,
                                              const ScramCredential& credential,
                                              std::string_view auth_message,
                                              std::string_view proof);

// Storage form, Kafka's ScramCredentialUtils text:
// "salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>". The
// mechanism is part of the record's key, not of this text.
std::string encode_scram_credential(const ScramCredential& credential);
// kMalformed for text that is not exactly that shape, keys of the wrong size
// for the mechanism, or iterations out of range.
Result<ScramCredential> decode_scram_credential(ScramMechanism mechanism, std::string_view text);

// Credentials by (user, mechanism). `fake_salt_key` (random bytes, fixed for
// the process) derives a stable fake salt for unknown users, so a client sees
// the same kind of answer, with the same salt each time, whether or not the
// user exists.
class ScramCredentialStore {
 public:
  explicit ScramCredentialStore(std::string fake_salt_key);
  void upsert(std::string_view user, ScramMechanism mechanism, ScramCredential credential);
  // False when there was nothing to remove.
  bool remove(std::string_view user, ScramMechanism mechanism);
  const ScramCredential* find(std::string_view user, ScramMechanism mechanism) const;
  std::vector<ScramMechanism> mechanisms_of(std::string_view user) const;

  struct Lookup {
    ScramCredential credential;  // the real one, or a fake that no proof matches
    bool found = false;
  };
  Lookup find_or_fake(std::string_view user, ScramMechanism mechanism) const;

 private:
  static std::string key_of(std::string_view user, ScramMechanism mechanism);
  std::string fake_salt_key_;
  std::map<std::string, ScramCredential, std::less<>> credentials_;
};

// --- message parsers (exposed for tests and fuzzing) ---

// Decodes a SCRAM saslname: "=2C" -> ',', "=3D" -> '='; nullopt for any other
// '=' escape, a raw ',' or NUL, or an empty name.
std::optional<std::string> decode_saslname(std::string_view text);
std::string encode_saslname(std::string_view name);

struct ScramClientFirst {
  std::string gs2_header;  // "n,," or "n,a=<authzid>,", echoed in the final c=
  std::string authzid;     // empty when absent
  std::string username;    // decoded
  std::string client_nonce;
  std::string bare;         // client-first-message-bare, part of the AuthMessage
  bool token_auth = false;  // Kafka's "tokenauth=true" extension (delegation tokens)
};
// kMalformed for anything but "n,[a=name],n=name,r=nonce[,ext=value]*";
// kUnsupportedMechanism for channel binding (y/p=) and any extension but tokenauth.
Result<ScramClientFirst> parse_scram_client_first(std::string_view message);

struct ScramClientFinal {
  std::string channel_binding;  // decoded c=
  std::string nonce;
  std::string proof;          // decoded p=
  std::string without_proof;  // the message up to ",p=", part of the AuthMessage
};
Result<ScramClientFinal> parse_scram_client_final(std::string_view message);

// One server-side SCRAM exchange:
//   step(client-first) -> server-first; step(client-final) -> server-final.
// After the second step succeeds, authenticated() is true and username() is
// the authenticated user. Any error is final: later steps give kIllegalState.
// An unknown user gets a fake salt and fails at the proof, with the same error
// and the same work as a wrong password. The store and the random source must
// outlive the server.
class ScramServer {
 public:
  ScramServer(ScramMechanism mechanism, const ScramCredentialStore& store, RandomSource& random);
  Result<std::string> step(std::string_view client_message);
  bool authenticated() const { return state_ == State::kAuthenticated; }
  const std::string& username() const { return first_.username; }
  // True when the client asked for delegation-token authentication, which
  // DMQ does not offer yet (the exchange fails).
  bool token_auth() const { return first_.token_auth; }

 private:
  enum class State { kInitial, kSentServerFirst, kAuthenticated, kFailed };
  Result<std::string> handle_client_first(std::string_view message);
  Result<std::string> handle_client_final(std::string_view message);

  ScramMechanism mechanism_;
  const ScramCredentialStore& store_;
  RandomSource& random_;
  State state_ = State::kInitial;
  ScramClientFirst first_;
  ScramCredentialStore::Lookup lookup_;
  std::string server_first_;
  std::string combined_nonce_;
};

}  // namespace dmq::security
