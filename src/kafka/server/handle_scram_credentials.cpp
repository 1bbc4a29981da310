// DescribeUserScramCredentials (KIP-554) from this broker's metadata image:
// mechanisms and iteration counts, never salts or keys. AlterUserScramCredentials
// is refused per user for now: credentials are written through the controller
// (POST /v1/scram-users), which this broker's handlers cannot reach yet.
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
  if (!req.users || req.users->empty()) {
    for (const auto& [user, _] : image->scram_credentials)
      resp.results.push_back(describe_user(*image, user));
  } else {
    for (const auto& u : *req.users) resp.results.push_back(describe_user(*image, u.name));
  }
  ex->respond(make_response(*ex, resp));
}

void handle_alter_user_scram_credentials(HandlerContext&, const ExchangePtr& ex) {
  const auto& req = std::get<AlterUserScramCredentialsRequest>(ex->request.body);
  auto resp = make_error_response(req, ex->request.header.api_version, ErrorCode::kPolicyViolation);
  for (auto& r : resp.results)
    r.error_message = "SCRAM credentials are managed with POST /v1/scram-users on the REST API";
  ex->respond(make_response(*ex, resp, ErrorCode::kPolicyViolation));
}

}  // namespace dmq::kafka
