#pragma once
// SASL on the Kafka port: the mechanisms a listener offers and one exchange
// per connection (KIP-43 handshake, KIP-152 SaslAuthenticate, KIP-368 session
// lifetimes), on top of the pure mechanisms in src/security.
//
// SaslService is shared by every connection of the server. It owns the SCRAM
// credential store (refreshed from the metadata image, which carries the
// controllers' UserScramCredential records), the OAUTHBEARER key set
// (re-read when its file changes) and one worker thread for PLAIN: PLAIN
// verification runs PBKDF2 (1-5 ms at 4096 iterations), too long for the
// event loop, while a SCRAM proof check is a few HMACs against a precomputed
// credential and stays on the loop.
//
// Threads: everything on the event loop, except the PBKDF2 job, which gets a
// copy of the credential and posts its verdict back to the loop. Nothing here
// logs a token, a password or a key.

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/metadata_image.h"
#include "security/jwt.h"
#include "security/jwt_key_source.h"
#include "security/random.h"
#include "security/scram.h"

namespace dmq::kafka {

struct SaslSettings {
  std::vector<std::string> mechanisms;  // enabled, in Kafka's spelling ("SCRAM-SHA-512")
  int64_t max_reauth_ms = 0;            // connections.max.reauth.ms; 0: sessions never expire
  security::JwtValidatorConfig jwt;
  std::shared_ptr<security::JwtKeySource> keys;  // OAUTHBEARER keys; null without OAUTHBEARER
};

class SaslService {
 public:
  SaslService(asio::io_context& io, SaslSettings settings);
  ~SaslService();

  const std::vector<std::string>& mechanisms() const { return settings_.mechanisms; }
  bool enabled(std::string_view mechanism) const;
  int64_t max_reauth_ms() const { return settings_.max_reauth_ms; }
  const security::JwtValidatorConfig& jwt_config() const { return settings_.jwt; }

  // The credential store, rebuilt when the image's credentials changed.
  // Shared so an exchange in progress keeps the store it started with.
  std::shared_ptr<const security::ScramCredentialStore> credentials(
      const cluster::MetadataImage& image);
  // The OAUTHBEARER keys (security::JwtKeySource: the HS256 secret and the
  // JWKS file, re-read when it changes).
  std::shared_ptr<const security::JwtKeySet> jwt_keys(int64_t now_ms);
  security::RandomSource& random() { return random_; }
  // Runs `job` on the worker thread, then `done` on the loop.
  void run_off_loop(std::function<bool()> job, std::function<void(bool)> done);

 private:
  asio::io_context& io_;
  SaslSettings settings_;
  security::OsRandomSource random_;
  std::shared_ptr<const security::ScramCredentialStore> store_;
  // The image credentials the store was built from.
  std::map<std::string, std::map<std::string, std::string>, std::less<>> store_source_;
  asio::thread_pool worker_{1};
};

// One connection's authentication: the chosen mechanism and its exchange.
class SaslSession {
 public:
  struct Outcome {
    enum class State { kContinue, kAuthenticated, kFailed } state = State::kFailed;
    std::string server_bytes;       // what goes back to the client (may be empty)
    std::string error_message;      // for kFailed: safe to send and log (no secrets)
    std::string principal;          // for kAuthenticated: "User:alice"
    int64_t session_expiry_ms = 0;  // for kAuthenticated: 0 = none (KIP-368)
  };
  explicit SaslSession(SaslService& service) : service_(service) {}

  // SaslHandshake: false when the mechanism is not enabled.
  bool begin(std::string_view mechanism);
  const std::string& mechanism() const { return mechanism_; }
  // One client token. `done` runs exactly once, on the loop, possibly later
  // (PLAIN). `image` supplies the credentials; `now_ms` is wall-clock time.
  void step(std::string_view token, const cluster::MetadataImage& image, int64_t now_ms,
            std::function<void(Outcome)> done);

 private:
  void step_plain(std::string_view token, const cluster::MetadataImage& image, int64_t now_ms,
                  std::function<void(Outcome)> done);
  Outcome step_scram(std::string_view token, const cluster::MetadataImage& image, int64_t now_ms);
  Outcome step_oauthbearer(std::string_view token, int64_t now_ms);
  static Outcome authenticated(const SaslService& service, std::string user, int64_t now_ms,
                               int64_t credential_expiry_ms, std::string server_bytes = "");

  SaslService& service_;
  std::string mechanism_;
  std::shared_ptr<const security::ScramCredentialStore> scram_store_;
  std::unique_ptr<security::ScramServer> scram_;
  bool oauth_failed_ = false;  // RFC 7628 §3.2.3: the client's "\x01" ends a failed exchange
};

}  // namespace dmq::kafka
