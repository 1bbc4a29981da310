// DescribeAcls, CreateAcls, DeleteAcls (KIP-11, KIP-290) as Kafka serves them:
// DESCRIBE (describe) or ALTER (create, delete) on the cluster, else
// CLUSTER_AUTHORIZATION_FAILED; SECURITY_DISABLED without an authorizer.
// Describe reads this broker's metadata image; creations and deletions go
// to the controllers (POST/DELETE /v1/acls), which commit AclRecords.
#include <cctype>
#include <map>
#include <tuple>

#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"
#include "security/acl.h"

namespace dmq::kafka {
namespace {

using security::AclBinding;
using security::AclBindingFilter;

AclBindingFilter filter_of(const AclFilterFields& f) {
  AclBindingFilter out;
  out.resource_type = static_cast<ResourceType>(f.resource_type);
  if (f.resource_name) out.resource_name = std::string(*f.resource_name);
  out.pattern_type = static_cast<security::PatternType>(f.pattern_type);
  if (f.principal) out.principal = std::string(*f.principal);
  if (f.host) out.host = std::string(*f.host);
  out.operation = static_cast<AclOperation>(f.operation);
  out.permission = static_cast<security::AclPermissionType>(f.permission_type);
  return out;
}

// Codes outside Kafka's enumerations become UNKNOWN, which validation refuses.
template <class E>
E known(int8_t code, int8_t max) {
  return static_cast<E>(code >= 0 && code <= max ? code : 0);
}

AclBindingFilter checked_filter_of(const AclFilterFields& f) {
  AclFilterFields clean = f;
  clean.resource_type = static_cast<int8_t>(known<ResourceType>(f.resource_type, 7));
  clean.pattern_type = static_cast<int8_t>(known<security::PatternType>(f.pattern_type, 4));
  clean.operation = static_cast<int8_t>(known<AclOperation>(f.operation, 14));
  clean.permission_type =
      static_cast<int8_t>(known<security::AclPermissionType>(f.permission_type, 3));
  return filter_of(clean);
}

// The REST query of a filter (controller_service.h): absent fields match anything.
std::string filter_query(const AclBindingFilter& f) {
  std::string q;
  auto add = [&](std::string_view name, std::string_view value) {
    if (!q.empty()) q += '&';
    q += name;
    q += '=';
    for (unsigned char c : value) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
        q += static_cast<char>(c);
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        q += '%';
        q += kHex[c >> 4];
        q += kHex[c & 15];
      }
    }
  };
  if (f.resource_type != ResourceType::kAny)
    add("resource_type", security::resource_type_name(f.resource_type));
  if (f.resource_name) add("resource_name", *f.resource_name);
  if (f.pattern_type != security::PatternType::kAny)
    add("pattern_type", security::pattern_type_name(f.pattern_type));
  if (f.principal) add("principal", *f.principal);
  if (f.host) add("host", *f.host);
  if (f.operation != AclOperation::kAny)
    add("operation", security::acl_operation_name(f.operation));
  if (f.permission != security::AclPermissionType::kAny)
    add("permission_type", security::permission_type_name(f.permission));
  return q;
}

DeleteAclsResponse::MatchingAcl matching_of(const AclBinding& b) {
  DeleteAclsResponse::MatchingAcl m;
  m.resource_type = static_cast<int8_t>(b.resource_type);
  m.resource_name = b.resource_name;
  m.pattern_type = static_cast<int8_t>(b.pattern_type);
  m.principal = b.principal;
  m.host = b.host;
  m.operation = static_cast<int8_t>(b.operation);
  m.permission_type = static_cast<int8_t>(b.permission);
  return m;
}

// A refusal common to the three APIs, or kNone.
ErrorCode precheck(const Exchange& ex, AclOperation needed) {
  if (!ex.authorizer) return ErrorCode::kSecurityDisabled;
  if (!AccessCheck(ex).cluster(needed)) return ErrorCode::kClusterAuthorizationFailed;
  return ErrorCode::kNone;
}

}  // namespace

void handle_describe_acls(HandlerContext&, const ExchangePtr& ex) {
  const auto& req = std::get<DescribeAclsRequest>(ex->request.body);
  DescribeAclsResponse resp;
  resp.error_code = precheck(*ex, AclOperation::kDescribe);
  AclBindingFilter filter = checked_filter_of(req.filter);
  if (resp.error_code == ErrorCode::kNone) {
    if (auto valid = security::validate_acl_filter(filter); !valid) {
      resp.error_code = ErrorCode::kInvalidRequest;
      resp.error_message = valid.error().message;
    }
  }
  if (resp.error_code != ErrorCode::kNone) {
    ex->respond(make_response(*ex, resp, resp.error_code));
    return;
  }
  // Grouped by resource pattern, as Kafka answers.
  std::map<std::tuple<int8_t, std::string, int8_t>, std::vector<DescribeAclsResponse::Acl>> by;
  for (const AclBinding& b : ex->authorizer->find(filter)) {
    by[{static_cast<int8_t>(b.resource_type), b.resource_name, static_cast<int8_t>(b.pattern_type)}]
        .push_back({b.principal, b.host, static_cast<int8_t>(b.operation),
                    static_cast<int8_t>(b.permission)});
  }
  for (auto& [key, acls] : by) {
    resp.resources.push_back(
        {std::get<0>(key), std::get<1>(key), std::get<2>(key), std::move(acls)});
  }
  ex->respond(make_response(*ex, resp));
}

void handle_create_acls(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<CreateAclsRequest>(ex->request.body);
  auto st = std::make_shared<PendingAnswer<CreateAclsResponse>>();
  st->resp.results.resize(req.creations.size());
  const ErrorCode refused = precheck(*ex, AclOperation::kAlter);
  auto done = answer_when_done(ex, st, &CreateAclsResponse::results);
  for (size_t i = 0; i < req.creations.size(); ++i) {
    const auto& c = req.creations[i];
    auto& out = st->resp.results[i];
    if (refused != ErrorCode::kNone) {
      out.error_code = refused;
      continue;
    }
    AclBinding b;
    b.resource_type = known<ResourceType>(c.resource_type, 7);
    b.resource_name = std::string(c.resource_name);
    b.pattern_type = known<security::PatternType>(c.pattern_type, 4);
    b.principal = std::string(c.principal);
    b.host = std::string(c.host);
    b.operation = known<AclOperation>(c.operation, 14);
    b.permission = known<security::AclPermissionType>(c.permission_type, 3);
    if (auto valid = security::validate_acl_binding(b); !valid) {
      out.error_code = ErrorCode::kInvalidRequest;
      out.error_message = valid.error().message;
      continue;
    }
    ++st->pending;
    ctx.controller.create_acl(security::acl_binding_to_json(b),
                              [st, i, done](const broker::AdminResult& r) {
                                auto& o = st->resp.results[i];
                                o.error_code = admin_error(r);
                                if (o.error_code != ErrorCode::kNone) o.error_message = r.message;
                                done();
                              });
  }
  done();
}

void handle_delete_acls(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<DeleteAclsRequest>(ex->request.body);
  auto st = std::make_shared<PendingAnswer<DeleteAclsResponse>>();
  st->resp.filter_results.resize(req.filters.size());
  const ErrorCode refused = precheck(*ex, AclOperation::kAlter);
  auto done = answer_when_done(ex, st, &DeleteAclsResponse::filter_results);
  for (size_t i = 0; i < req.filters.size(); ++i) {
    auto& out = st->resp.filter_results[i];
    AclBindingFilter filter = checked_filter_of(req.filters[i]);
    if (refused != ErrorCode::kNone) {
      out.error_code = refused;
      continue;
    }
    if (auto valid = security::validate_acl_filter(filter); !valid) {
      out.error_code = ErrorCode::kInvalidRequest;
      out.error_message = valid.error().message;
      continue;
    }
    ++st->pending;
    ctx.controller.delete_acls(filter_query(filter), [st, i, done](const broker::AdminResult& r) {
      auto& o = st->resp.filter_results[i];
      o.error_code = admin_error(r);
      if (o.error_code == ErrorCode::kNone) {
        auto deleted = security::acl_bindings_from_json(r.body, "deleted");
        if (deleted) {
          for (const auto& b : deleted.value()) o.matching_acls.push_back(matching_of(b));
        } else {
          o.error_code = ErrorCode::kUnknownServerError;
        }
      }
      if (o.error_code != ErrorCode::kNone && !o.error_message) o.error_message = r.message;
      done();
    });
  }
  done();
}

}  // namespace dmq::kafka
