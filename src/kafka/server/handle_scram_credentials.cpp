// DescribeUserScramCredentials (KIP-554) from this broker's metadata image:
// mechanisms and iteration counts, never salts or keys; AlterUserScramCredentials
// through the controllers (POST/DELETE /v1/scram-users).
#include <map>

#include "common/base64.h"
#include "common/json_escape.h"
#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

constexpr int8_t kScramSha256 = 1;
constexpr int8_t kScramSha512 = 2;

int8_t mechanism_code(const std::string& name) {
  if (name == "SCRAM-SHA-256") return kScramSha256;
  if (name == "SCRAM-SHA-512") return kScramSha512;
  return 0;
}

int32_t iterations_of(std::string_view credential) {
  auto at = credential.rfind("iterations=");
  if (at == std::string_view::npos) return 0;
  int32_t n = 0;
  for (char c : credential.substr(at + 11)) {
    if (c < '0' || c > '9') break;
    n = n * 10 + (c - '0');
  }
  return n;
}

DescribeUserScramCredentialsResponse::Result describe_user(const cluster::MetadataImage& image,
                                                           std::string_view user) {
  DescribeUserScramCredentialsResponse::Result r;
  r.user = std::string(user);
  auto it = image.scram_credentials.find(user);
  if (it == image.scram_credentials.end()) {
    r.error_code = ErrorCode::kResourceNotFound;
    r.error_message = "Attempt to describe a user credential that does not exist";
    return r;
  }
  for (const auto& [mechanism, credential] : it->second)
    r.credential_infos.push_back({mechanism_code(mechanism), iterations_of(credential)});
  return r;
}

}  // namespace

void handle_describe_user_scram_credentials(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<DescribeUserScramCredentialsRequest>(ex->request.body);
  auto image = ctx.backend.metadata();
  DescribeUserScramCredentialsResponse resp;
  if (!AccessCheck(*ex).cluster(AclOperation::kDescribe)) {
    resp.error_code = ErrorCode::kClusterAuthorizationFailed;
    ex->respond(make_response(*ex, resp, resp.error_code));
    return;
  }
  if (!req.users || req.users->empty()) {
    for (const auto& [user, _] : image->scram_credentials)
      resp.results.push_back(describe_user(*image, user));
  } else {
    for (const auto& u : *req.users) resp.results.push_back(describe_user(*image, u.name));
  }
  ex->respond(make_response(*ex, resp));
}

namespace {

struct AlterState : PendingAnswer<AlterUserScramCredentialsResponse> {
  std::map<std::string, size_t, std::less<>> index;  // user -> result
};

void note(AlterState& st, std::string_view user, ErrorCode error, std::string message) {
  auto& r = st.resp.results[st.index.find(user)->second];
  if (r.error_code != ErrorCode::kNone || error == ErrorCode::kNone) return;
  r.error_code = error;
  r.error_message = std::move(message);
}

ErrorCode scram_admin_error(const broker::AdminResult& r) {
  if (r.code == "unknown_user") return ErrorCode::kResourceNotFound;
  if (r.code == "invalid_request") return ErrorCode::kUnacceptableCredential;
  return admin_error(r);
}

std::string upsert_body(const AlterUserScramCredentialsRequest::Upsertion& u) {
  std::string body = "{\"name\":\"";
  append_json_escaped(body, u.name);
  body += "\",\"mechanism\":\"" +
          std::string(u.mechanism == kScramSha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512") +
          "\",\"iterations\":" + std::to_string(u.iterations) + ",\"salt\":\"" +
          base64_encode(u.salt) + "\",\"salted_password\":\"" + base64_encode(u.salted_password) +
          "\"}";
  return body;
}

// KIP-554's checks before anything is written; kNone when the change may go.
ErrorCode precheck(std::string_view user, int8_t mechanism, std::string* why) {
  if (user.empty()) {
    *why = "empty user name";
    return ErrorCode::kUnacceptableCredential;
  }
  if (mechanism != kScramSha256 && mechanism != kScramSha512) {
    *why = "unknown SCRAM mechanism";
    return ErrorCode::kUnsupportedSaslMechanism;
  }
  return ErrorCode::kNone;
}

}  // namespace

// AlterUserScramCredentials (KIP-554): ALTER on the cluster; each change
// goes to the controllers (the credential is derived there from the
// client's salted password, which is never logged). One result per user:
// DUPLICATE_RESOURCE when a user names a mechanism twice, else the first
// error of its changes.
void handle_alter_user_scram_credentials(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<AlterUserScramCredentialsRequest>(ex->request.body);
  if (!AccessCheck(*ex).cluster(AclOperation::kAlter)) {
    auto denied = make_error_response(req, ex->request.header.api_version,
                                      ErrorCode::kClusterAuthorizationFailed);
    ex->respond(make_response(*ex, denied, ErrorCode::kClusterAuthorizationFailed));
    return;
  }
  auto st = std::make_shared<AlterState>();
  st->resp = make_error_response(req, ex->request.header.api_version, ErrorCode::kNone);
  for (size_t i = 0; i < st->resp.results.size(); ++i) st->index[st->resp.results[i].user] = i;
  std::map<std::pair<std::string_view, int8_t>, int> seen;
  for (const auto& d : req.deletions) ++seen[{d.name, d.mechanism}];
  for (const auto& u : req.upsertions) ++seen[{u.name, u.mechanism}];
  for (const auto& [key, count] : seen)
    if (count > 1) note(*st, key.first, ErrorCode::kDuplicateResource, "a mechanism named twice");
  auto done = answer_when_done<AlterUserScramCredentialsResponse>(
      ex, st, &AlterUserScramCredentialsResponse::results);
  auto proceed = [&](std::string_view user, int8_t mechanism) {
    std::string why;
    ErrorCode e = precheck(user, mechanism, &why);
    note(*st, user, e, why);
    if (st->resp.results[st->index.find(user)->second].error_code != ErrorCode::kNone) return false;
    ++st->pending;
    return true;
  };
  auto answer = [st, done](std::string user) {
    return [st, done, user](const broker::AdminResult& r) {
      note(*st, user, scram_admin_error(r), r.message);
      done();
    };
  };
  for (const auto& d : req.deletions) {
    if (!proceed(d.name, d.mechanism)) continue;
    ctx.controller.delete_scram_credential(
        std::string(d.name), d.mechanism == kScramSha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512",
        answer(std::string(d.name)));
  }
  for (const auto& u : req.upsertions) {
    if (!proceed(u.name, u.mechanism)) continue;
    ctx.controller.upsert_scram_credential(upsert_body(u), answer(std::string(u.name)));
  }
  done();
}

}  // namespace dmq::kafka
