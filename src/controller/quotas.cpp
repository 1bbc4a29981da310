// Client quotas (KIP-546) through the controller: POST /v1/quotas sets or
// removes the quotas of one entity as ClientQuotaRecords committed through
// the quorum in one batch (all of an entity's ops, or none). Brokers answer
// AlterClientQuotas by sending each entry here.
#include <httplib.h>

#include <variant>

#include "common/log.h"
#include "controller/controller_service.h"
#include "quota/quota_json.h"

namespace dmq::controller {

net::HttpResponse ControllerService::handle_alter_quotas(const httplib::Request& req) {
  auto parsed = quota::parse_alteration(req.body);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    return net::json_error(400, "invalid_request", *why);
  }
  auto alteration = std::get<quota::Alteration>(std::move(parsed));
  const std::string answer = "{\"entity\":" + quota::entity_to_json(alteration.entity) +
                             ",\"validate_only\":" + (alteration.validate_only ? "true" : "false") +
                             "}";
  if (alteration.validate_only) return net::HttpResponse{200, answer};
  LOG_INFO("controller") << "altering client quotas of "
                         << quota::entity_to_string(alteration.entity);
  cluster::RecordBatch batch;
  for (const quota::QuotaOp& op : alteration.ops)
    batch.push_back(cluster::ClientQuotaRecord{alteration.entity, op.key, op.value});
  return propose_and_wait(
      [batch](const cluster::MetadataState&) -> cluster::Result<cluster::RecordBatch> {
        return batch;
      },
      [answer](raft::LogIndex) {
        return net::HttpResponse{200, answer};
      });
}

}  // namespace dmq::controller
