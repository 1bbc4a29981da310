#include "kafka/server/sasl.h"

#include "common/log.h"
#include "security/oauthbearer.h"
#include "security/sasl_plain.h"

namespace dmq::kafka {
namespace {

std::optional<security::ScramMechanism> scram_of(std::string_view mechanism) {
  return security::parse_scram_mechanism(mechanism);
}

SaslSession::Outcome failed(std::string message) {
  SaslSession::Outcome o;
  o.state = SaslSession::Outcome::State::kFailed;
  o.error_message = std::move(message);
  return o;
}

// Kafka's message for every credential failure: the client learns nothing
// about which part was wrong (unknown user, wrong password, bad proof).
constexpr const char* kBadCredentials = "Authentication failed: invalid credentials";

}  // namespace

SaslService::SaslService(asio::io_context& io, SaslSettings settings)
    : io_(io), settings_(std::move(settings)) {
  store_ = std::make_shared<security::ScramCredentialStore>(random_.bytes(32));
}

SaslService::~SaslService() {
  worker_.join();
}

bool SaslService::enabled(std::string_view mechanism) const {
  for (const auto& m : settings_.mechanisms)
    if (m == mechanism) return true;
  return false;
}

std::shared_ptr<const security::ScramCredentialStore> SaslService::credentials(
    const cluster::MetadataImage& image) {
  if (image.scram_credentials == store_source_) return store_;
  // Rebuilt whole: credentials change rarely (an operator's command) and a
  // fresh store cannot keep a deleted user by mistake.
  auto fresh = std::make_shared<security::ScramCredentialStore>(random_.bytes(32));
  for (const auto& [user, by_mechanism] : image.scram_credentials) {
    for (const auto& [name, text] : by_mechanism) {
      auto mechanism = scram_of(name);
      if (!mechanism) continue;
      auto credential = security::decode_scram_credential(*mechanism, text);
      if (!credential) {
        LOG_WARN("kafka") << "ignoring a malformed " << name << " credential of user " << user;
        continue;
      }
      fresh->upsert(user, *mechanism, std::move(credential).value());
    }
  }
  store_ = std::move(fresh);
  store_source_ = image.scram_credentials;
  return store_;
}

std::shared_ptr<const security::JwtKeySet> SaslService::jwt_keys(int64_t now_ms) {
  static const auto none = std::make_shared<const security::JwtKeySet>();
  return settings_.keys ? settings_.keys->keys(now_ms) : none;
}

void SaslService::run_off_loop(std::function<bool()> job, std::function<void(bool)> done) {
  asio::post(worker_, [this, job = std::move(job), done = std::move(done)]() mutable {
    bool verdict = job();
    asio::post(io_, [done = std::move(done), verdict] { done(verdict); });
  });
}

bool SaslSession::begin(std::string_view mechanism) {
  if (!service_.enabled(mechanism)) return false;
  mechanism_ = std::string(mechanism);
  scram_.reset();
  scram_store_.reset();
  oauth_failed_ = false;
  return true;
}

void SaslSession::step(std::string_view token, const cluster::MetadataImage& image, int64_t now_ms,
                       std::function<void(Outcome)> done) {
  if (mechanism_ == "PLAIN") return step_plain(token, image, now_ms, std::move(done));
  if (mechanism_ == "OAUTHBEARER") return done(step_oauthbearer(token, now_ms));
  if (scram_of(mechanism_)) return done(step_scram(token, image, now_ms));
  done(failed("no SASL mechanism chosen"));
}

void SaslSession::step_plain(std::string_view token, const cluster::MetadataImage& image,
                             int64_t now_ms, std::function<void(Outcome)> done) {
  auto message = security::parse_sasl_plain(token);
  if (!message) return done(failed("Authentication failed: malformed PLAIN message"));
  if (!message.value().authzid.empty() && message.value().authzid != message.value().username) {
    return done(failed(kBadCredentials));
  }
  // The credential is copied on the loop (the store is the loop's); the
  // PBKDF2 runs on the worker. An unknown user gets a fake credential and the
  // same work, so timing does not tell whether the user exists.
  const auto store = service_.credentials(image);
  auto user = message.value().username;
  auto mechanism = security::ScramMechanism::kSha512;
  auto lookup = store->find_or_fake(user, mechanism);
  if (!lookup.found) {
    auto sha256 = store->find_or_fake(user, security::ScramMechanism::kSha256);
    if (sha256.found) {
      lookup = std::move(sha256);
      mechanism = security::ScramMechanism::kSha256;
    }
  }
  auto password = std::make_shared<std::string>(std::move(message.value().password));
  service_.run_off_loop(
      [mechanism, lookup, password] {
        bool match = security::scram_password_matches(mechanism, lookup.credential, *password);
        return match && lookup.found;
      },
      // The session may be gone by now: only the service (which outlives
      // every connection) is used here.
      [service = &service_, user, now_ms, done = std::move(done)](bool ok) {
        done(ok ? authenticated(*service, user, now_ms, 0) : failed(kBadCredentials));
      });
}

SaslSession::Outcome SaslSession::step_scram(std::string_view token,
                                             const cluster::MetadataImage& image, int64_t now_ms) {
  if (!scram_) {
    scram_store_ = service_.credentials(image);
    scram_ = std::make_unique<security::ScramServer>(*scram_of(mechanism_), *scram_store_,
                                                     service_.random());
  }
  auto answer = scram_->step(token);
  if (!answer) {
    // The core's messages hold no secrets; the detail goes to the debug log
    // only, the client gets Kafka's generic answer.
    LOG_DEBUG("kafka") << mechanism_ << ": " << answer.error().message;
    if (answer.error().code == security::ErrorCode::kAuthenticationFailed)
      return failed(kBadCredentials);
    return failed("Authentication failed: " + answer.error().message);
  }
  if (!scram_->authenticated()) {
    Outcome o;
    o.state = Outcome::State::kContinue;
    o.server_bytes = std::move(answer).value();
    return o;
  }
  return authenticated(service_, scram_->username(), now_ms, 0, std::move(answer).value());
}

SaslSession::Outcome SaslSession::step_oauthbearer(std::string_view token, int64_t now_ms) {
  if (oauth_failed_) return failed("Authentication failed: invalid token");
  auto keys = service_.jwt_keys(now_ms);
  auto claims = security::authenticate_oauthbearer(token, *keys, service_.jwt_config(), now_ms);
  if (!claims) {
    // RFC 7628 §3.2.2: answer with the error challenge; the client's "\x01"
    // then ends the exchange. Kafka clients take the SaslAuthenticate error
    // instead, so the failure is reported at once with the reason (the
    // reason names the check, never the token or its claims).
    oauth_failed_ = true;
    auto o = failed("Authentication failed: " + claims.error().message);
    o.server_bytes = security::oauthbearer_error_challenge();
    return o;
  }
  return authenticated(service_, claims.value().principal, now_ms, claims.value().expires_at_ms);
}

SaslSession::Outcome SaslSession::authenticated(const SaslService& service, std::string user,
                                                int64_t now_ms, int64_t credential_expiry_ms,
                                                std::string server_bytes) {
  Outcome o;
  o.state = Outcome::State::kAuthenticated;
  o.principal = "User:" + user;
  o.server_bytes = std::move(server_bytes);
  // KIP-368: with connections.max.reauth.ms set, a session ends at the
  // earlier of that bound and the credential's own expiry (a token's exp).
  if (service.max_reauth_ms() > 0) {
    int64_t expiry = now_ms + service.max_reauth_ms();
    if (credential_expiry_ms > 0) expiry = std::min(expiry, credential_expiry_ms);
    o.session_expiry_ms = std::max(expiry, now_ms + 1);
  }
  return o;
}

}  // namespace dmq::kafka
