// ACL bindings (KIP-11) through the controller: POST /v1/acls creates one
// binding, DELETE /v1/acls?<filter fields> removes every binding the filter
// matches, both as AclRecords committed through the quorum, with Kafka's
// semantics (creating an existing binding succeeds; a filter matching
// nothing deletes nothing). The deletions are planned on the leader's
// current state, so concurrent writes cannot make a filter miss a binding
// that the answer reports.
#include <httplib.h>

#include "common/log.h"
#include "controller/controller_service.h"
#include "security/acl.h"

namespace dmq::controller {

net::HttpResponse acl_error(const security::Error& error) {
  return net::json_error(security::http_status(error.code),
                         std::string(security::error_code_name(error.code)), error.message);
}

net::HttpResponse security_disabled() {
  return net::json_error(400, "security_disabled",
                         "ACLs need --authorizer.enabled=true (Kafka's SECURITY_DISABLED)");
}

security::Result<security::AclBindingFilter> acl_filter_of(const httplib::Request& req) {
  security::AclFields fields;
  for (const auto& [name, value] : req.params) fields[name] = value;
  return security::acl_filter_from_fields(fields);
}

net::HttpResponse ControllerService::handle_create_acl(const httplib::Request& req) {
  if (!options_.security.authorizer_enabled) return security_disabled();
  auto fields = security::acl_fields_from_json(req.body);
  if (!fields) return acl_error(fields.error());
  auto binding = security::acl_binding_from_fields(fields.value());
  if (!binding) return acl_error(binding.error());
  std::string encoded = security::encode_acl_binding(binding.value());
  LOG_INFO("controller") << "creating ACL " << security::acl_binding_to_json(binding.value());
  return propose_and_wait(
      [encoded](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        if (state.image().acls.count(encoded)) return cluster::RecordBatch{};
        return cluster::RecordBatch{cluster::AclRecord{encoded, false}};
      },
      [json = security::acl_binding_to_json(binding.value())](raft::LogIndex) {
        return net::HttpResponse{201, json};
      });
}

net::HttpResponse ControllerService::handle_delete_acls(const httplib::Request& req) {
  if (!options_.security.authorizer_enabled) return security_disabled();
  auto filter = acl_filter_of(req);
  if (!filter) return acl_error(filter.error());
  auto matched = std::make_shared<std::vector<security::AclBinding>>();
  return propose_and_wait(
      [filter = filter.value(),
       matched](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        matched->clear();
        cluster::RecordBatch batch;
        for (const std::string& encoded : state.image().acls) {
          auto binding = security::decode_acl_binding(encoded);
          if (!binding || !filter.matches(binding.value())) continue;
          matched->push_back(std::move(binding).value());
          batch.push_back(cluster::AclRecord{encoded, true});
        }
        return batch;
      },
      [matched](raft::LogIndex) {
        for (const auto& b : *matched)
          LOG_INFO("controller") << "deleted ACL " << security::acl_binding_to_json(b);
        return net::HttpResponse{200, security::acl_bindings_to_json("deleted", *matched)};
      });
}

}  // namespace dmq::controller
