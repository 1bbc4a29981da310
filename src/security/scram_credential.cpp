// SCRAM credentials: derivation (RFC 5802 §3), Kafka's text form, the store.
#include <charconv>

#include "common/base64.h"
#include "security/scram.h"

namespace dmq::security {
namespace {

Status check_iterations(int iterations) {
  if (iterations < kScramMinIterations || iterations > kScramMaxIterations) {
    return make_error(ErrorCode::kInvalidConfig, "SCRAM iterations must be between 4096 and 16384");
  }
  return Ok{};
}

Status check_salt(std::string_view salt) {
  if (salt.empty() || salt.size() > kScramMaxSaltBytes) {
    return make_error(ErrorCode::kInvalidConfig, "SCRAM salt must be 1 to 1024 bytes");
  }
  return Ok{};
}

// "name=" prefix check and strip for the credential text.
std::optional<std::string_view> field(std::string_view part, std::string_view name) {
  if (part.size() <= name.size() || part.substr(0, name.size()) != name) return std::nullopt;
  if (part[name.size()] != '=') return std::nullopt;
  return part.substr(name.size() + 1);
}

}  // namespace

std::string_view scram_mechanism_name(ScramMechanism mechanism) {
  return mechanism == ScramMechanism::kSha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512";
}

std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name) {
  if (name == "SCRAM-SHA-256") return ScramMechanism::kSha256;
  if (name == "SCRAM-SHA-512") return ScramMechanism::kSha512;
  return std::nullopt;
}

HashAlgorithm scram_hash(ScramMechanism mechanism) {
  return mechanism == ScramMechanism::kSha256 ? HashAlgorithm::kSha256 : HashAlgorithm::kSha512;
}

Result<ScramCredential> scram_credential_from_salted_password(ScramMechanism mechanism,
                                                              std::string_view salt,
                                                              std::string_view salted_password,
                                                              int iterations) {
  if (auto s = check_iterations(iterations); !s) return s.error();
  if (auto s = check_salt(salt); !s) return s.error();
  HashAlgorithm alg = scram_hash(mechanism);
  if (salted_password.size() != digest_size(alg)) {
    return make_error(ErrorCode::kInvalidConfig, "salted password has the wrong length");
  }
  ScramCredential c;
  c.salt = std::string(salt);
  c.iterations = iterations;
  c.stored_key = hash_digest(alg, hmac(alg, salted_password, "Client Key"));
  c.server_key = hmac(alg, salted_password, "Server Key");
  return c;
}

Result<ScramCredential> scram_credential_from_password(ScramMechanism mechanism,
                                                       std::string_view password,
                                                       std::string_view salt, int iterations) {
  if (password.empty()) return make_error(ErrorCode::kInvalidConfig, "empty password");
  if (auto s = check_iterations(iterations); !s) return s.error();
  if (auto s = check_salt(salt); !s) return s.error();
  std::string salted = pbkdf2_hmac(scram_hash(mechanism), password, salt, iterations);
  return scram_credential_from_salted_password(mechanism, salt, salted, iterations);
}

Result<ScramCredential> make_scram_credential(ScramMechanism mechanism, std::string_view password,
                                              int iterations, RandomSource& random) {
  return scram_credential_from_password(mechanism, password, random.bytes(32), iterations);
}

bool scram_password_matches(ScramMechanism mechanism, const ScramCredential& credential,
                            std::string_view password) {
  HashAlgorithm alg = scram_hash(mechanism);
  std::string salted = pbkdf2_hmac(alg, password, credential.salt, credential.iterations);
  std::string stored = hash_digest(alg, hmac(alg, salted, "Client Key"));
  return constant_time_equal(stored, credential.stored_key);
}

std::string encode_scram_credential(const ScramCredential& c) {
  return "salt=" + base64_encode(c.salt) + ",stored_key=" + base64_encode(c.stored_key) +
         ",server_key=" + base64_encode(c.server_key) +
         ",iterations=" + std::to_string(c.iterations);
}

Result<ScramCredential> decode_scram_credential(ScramMechanism mechanism, std::string_view text) {
  auto bad = [] { return make_error(ErrorCode::kMalformed, "malformed SCRAM credential record"); };
  std::string_view parts[4];
  for (int i = 0; i < 4; ++i) {
    size_t comma = text.find(',');
    if ((comma == std::string_view::npos) != (i == 3)) return bad();
    parts[i] = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  auto salt = field(parts[0], "salt");
  auto stored = field(parts[1], "stored_key");
  auto server = field(parts[2], "server_key");
  auto iters = field(parts[3], "iterations");
  if (!salt || !stored || !server || !iters) return bad();
  ScramCredential c;
  auto [end, ec] = std::from_chars(iters->data(), iters->data() + iters->size(), c.iterations);
  if (ec != std::errc{} || end != iters->data() + iters->size()) return bad();
  auto s = base64_decode(*salt);
  auto k1 = base64_decode(*stored);
  auto k2 = base64_decode(*server);
  if (!s || !k1 || !k2) return bad();
  size_t n = digest_size(scram_hash(mechanism));
  if (k1->size() != n || k2->size() != n) return bad();
  if (!check_iterations(c.iterations) || !check_salt(*s)) return bad();
  c.salt = std::move(*s);
  c.stored_key = std::move(*k1);
  c.server_key = std::move(*k2);
  return c;
}

ScramCredentialStore::ScramCredentialStore(std::string fake_salt_key)
    : fake_salt_key_(std::move(fake_salt_key)) {
  DMQ_ASSERT(fake_salt_key_.size() >= 16);
}

std::string ScramCredentialStore::key_of(std::string_view user, ScramMechanism mechanism) {
  std::string key(scram_mechanism_name(mechanism));
  key += '\0';
  key += user;
  return key;
}

void ScramCredentialStore::upsert(std::string_view user, ScramMechanism mechanism,
                                  ScramCredential credential) {
  credentials_[key_of(user, mechanism)] = std::move(credential);
}

bool ScramCredentialStore::remove(std::string_view user, ScramMechanism mechanism) {
  return credentials_.erase(key_of(user, mechanism)) > 0;
}

const ScramCredential* ScramCredentialStore::find(std::string_view user,
                                                  ScramMechanism mechanism) const {
  auto it = credentials_.find(key_of(user, mechanism));
  return it == credentials_.end() ? nullptr : &it->second;
}

std::vector<ScramMechanism> ScramCredentialStore::mechanisms_of(std::string_view user) const {
  std::vector<ScramMechanism> out;
  for (auto m : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
    if (find(user, m)) out.push_back(m);
  }
  return out;
}

ScramCredentialStore::Lookup ScramCredentialStore::find_or_fake(std::string_view user,
                                                                ScramMechanism mechanism) const {
  if (const ScramCredential* c = find(user, mechanism)) return {*c, true};
  // A stable salt per (user, mechanism), so asking twice does not reveal that
  // the user is unknown; keys that no proof can match (all zero stored key
  // would need a SHA preimage).
  HashAlgorithm alg = scram_hash(mechanism);
  ScramCredential fake;
  fake.salt = hmac(HashAlgorithm::kSha256, fake_salt_key_, key_of(user, mechanism));
  fake.iterations = kScramMinIterations;
  fake.stored_key = std::string(digest_size(alg), '\0');
  fake.server_key = std::string(digest_size(alg), '\0');
  return {std::move(fake), false};
}

}  // namespace dmq::security
