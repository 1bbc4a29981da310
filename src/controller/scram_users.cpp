// SCRAM users (KIP-554) through the controller: REST writes and the
// bootstrap file. The controller derives the salted credential from the
// password (PBKDF2 on the HTTP thread, or once at start for the bootstrap
// file) and proposes a UserScramCredentialRecord holding only Kafka's
// credential form; the password is never logged, stored or answered.
#include <httplib.h>
#include <openssl/crypto.h>

#include "common/base64.h"
#include "common/json_escape.h"
#include "common/log.h"
#include "controller/controller_service.h"
#include "net/json_body.h"
#include "security/cluster_secret.h"
#include "security/random.h"
#include "security/scram.h"

namespace dmq::controller {
namespace {

// A user name SCRAM can carry (RFC 5802 escapes ',' and '='); the bounds
// keep record sizes sane.
bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// Derives the record for (name, mechanism, password); the caller wipes the password.
security::Result<cluster::UserScramCredentialRecord> derive_record(const std::string& name,
                                                                   const std::string& mechanism,
                                                                   const std::string& password,
                                                                   int iterations) {
  auto m = security::parse_scram_mechanism(mechanism);
  if (!m) {
    return security::make_error(security::ErrorCode::kInvalidConfig,
                                "mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512");
  }
  security::OsRandomSource random;
  auto credential = security::make_scram_credential(*m, password, iterations, random);
  if (!credential) return credential.error();
  return cluster::UserScramCredentialRecord{name, std::string(security::scram_mechanism_name(*m)),
                                            security::encode_scram_credential(credential.value())};
}

std::string json_quoted(std::string_view text) {
  std::string out = "\"";
  append_json_escaped(out, text);
  return out + "\"";
}

void wipe(std::string& secret) {
  OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

}  // namespace

// AlterUserScramCredentials' form: the client's salted password (base64),
// never the password. The caller wipes the decoded secret.
static security::Result<cluster::UserScramCredentialRecord> record_from_salted(
    const std::string& name, const std::string& mechanism, const std::string& salt_b64,
    std::string& salted_b64, int iterations) {
  auto m = security::parse_scram_mechanism(mechanism);
  if (!m) {
    return security::make_error(security::ErrorCode::kInvalidConfig,
                                "mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512");
  }
  auto salt = base64_decode(salt_b64);
  auto salted = base64_decode(salted_b64);
  wipe(salted_b64);
  if (!salt || !salted) {
    return security::make_error(security::ErrorCode::kMalformed,
                                "\"salt\" and \"salted_password\" must be base64");
  }
  auto credential = security::scram_credential_from_salted_password(*m, *salt, *salted, iterations);
  wipe(*salted);
  if (!credential) return credential.error();
  return cluster::UserScramCredentialRecord{name, std::string(security::scram_mechanism_name(*m)),
                                            security::encode_scram_credential(credential.value())};
}

net::HttpResponse ControllerService::handle_upsert_scram_user(const httplib::Request& req) {
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  auto name = text("name");
  auto mechanism = text("mechanism");
  auto password = text("password");
  auto salted = text("salted_password");
  auto salt = text("salt");
  int iterations = security::kScramMinIterations;
  if (auto it = doc.FindMember("iterations"); it != doc.MemberEnd()) {
    if (!it->value.IsInt()) {
      return net::json_error(400, "invalid_request", "\"iterations\" must be an integer");
    }
    iterations = it->value.GetInt();
  }
  if (!name || !valid_user_name(*name)) {
    return net::json_error(400, "invalid_request", "\"name\" must be a non-empty user name");
  }
  if (!mechanism || (!password && !(salted && salt))) {
    return net::json_error(400, "invalid_request",
                           "\"mechanism\" and \"password\" (or \"salt\" and "
                           "\"salted_password\") are required");
  }
  auto record = password ? derive_record(*name, *mechanism, *password, iterations)
                         : record_from_salted(*name, *mechanism, *salt, *salted, iterations);
  if (password) wipe(*password);
  if (salted) wipe(*salted);
  if (!record) return net::json_error(400, "invalid_request", record.error().message);
  LOG_INFO("controller") << "setting the " << record.value().mechanism << " credential of user "
                         << *name;
  return propose_and_wait(
      [record = record.value()](const cluster::MetadataState&)
          -> cluster::Result<cluster::RecordBatch> { return cluster::RecordBatch{record}; },
      [name = *name, mechanism = record.value().mechanism](raft::LogIndex) {
        return net::HttpResponse{
            201, "{\"name\":" + json_quoted(name) + ",\"mechanism\":\"" + mechanism + "\"}"};
      });
}

net::HttpResponse ControllerService::handle_delete_scram_user(const httplib::Request& req) {
  std::string name = req.matches[1];
  std::string mechanism = req.has_param("mechanism") ? req.get_param_value("mechanism") : "";
  if (!security::parse_scram_mechanism(mechanism)) {
    return net::json_error(400, "invalid_request",
                           "?mechanism=SCRAM-SHA-256 or SCRAM-SHA-512 is required");
  }
  return propose_and_wait(
      [name,
       mechanism](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        auto it = state.image().scram_credentials.find(name);
        if (it == state.image().scram_credentials.end() || !it->second.count(mechanism)) {
          return cluster::Error{cluster::ErrorCode::kUnknownUser,
                                "no " + mechanism + " credential for that user"};
        }
        return cluster::RecordBatch{cluster::UserScramCredentialRecord{name, mechanism, {}}};
      },
      [name, mechanism](raft::LogIndex) {
        return net::HttpResponse{
            200, "{\"deleted\":" + json_quoted(name) + ",\"mechanism\":\"" + mechanism + "\"}"};
      });
}

void ControllerService::load_scram_bootstrap() {
  const std::string& path = options_.security.sasl_scram_bootstrap_file;
  if (path.empty()) return;
  // Same rule as every secret file: chmod 600 or 400, bounded size.
  auto contents = security::load_cluster_secret(path);
  if (!contents) {
    LOG_ERROR("controller") << "--sasl.scram.bootstrap.file: " << contents.error().message;
    return;
  }
  std::string text = std::move(contents).value();
  size_t line_no = 0;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    // name:mechanism:password; the password may itself contain ':'.
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos) {
      LOG_ERROR("controller") << "--sasl.scram.bootstrap.file: line " << line_no
                              << " is not name:mechanism:password";
      wipe(line);
      continue;
    }
    std::string password = line.substr(c2 + 1);
    auto record = derive_record(line.substr(0, c1), line.substr(c1 + 1, c2 - c1 - 1), password,
                                security::kScramMinIterations);
    wipe(password);
    wipe(line);
    if (!record) {
      LOG_ERROR("controller") << "--sasl.scram.bootstrap.file: line " << line_no << ": "
                              << record.error().message;
      continue;
    }
    scram_bootstrap_.push_back(std::move(record).value());
  }
  wipe(text);
}

void ControllerService::maybe_bootstrap_scram() {
  if (scram_bootstrap_.empty() || scram_bootstrapped_) return;
  // Once per leadership: only users the cluster does not know yet, so a
  // credential changed over REST is never reset by a restart.
  scram_bootstrapped_ = true;
  cluster::RecordBatch batch;
  metadata_.with_state([&](const cluster::MetadataState& state) {
    for (const auto& r : scram_bootstrap_) {
      auto it = state.image().scram_credentials.find(r.user);
      if (it == state.image().scram_credentials.end() || !it->second.count(r.mechanism))
        batch.push_back(r);
    }
  });
  if (!batch.empty()) propose_background(std::move(batch), "create the bootstrap SCRAM users");
}

}  // namespace dmq::controller
