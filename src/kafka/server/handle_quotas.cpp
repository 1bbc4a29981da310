// DescribeClientQuotas (from this broker's metadata image) and
// AlterClientQuotas (each entry through the controllers' POST /v1/quotas),
// KIP-546. Kafka's ACLs: DESCRIBE_CONFIGS / ALTER_CONFIGS on the cluster.
#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"
#include "quota/quota_json.h"

namespace dmq::kafka {
namespace {

std::vector<QuotaEntityData> entity_data(const quota::Entity& entity) {
  std::vector<QuotaEntityData> out;
  for (const auto& [type, name] : entity) out.push_back({type, name});
  return out;
}

// The filter's components by entity type; a one-line reason when invalid.
using Components =
    std::map<std::string, const DescribeClientQuotasRequest::Component*, std::less<>>;
std::optional<std::string> components_of(const DescribeClientQuotasRequest& req, Components& out) {
  for (const auto& c : req.components) {
    if (c.entity_type != quota::kUserType && c.entity_type != quota::kClientIdType)
      return "unknown quota entity type '" + std::string(c.entity_type) + "'";
    if (!out.emplace(std::string(c.entity_type), &c).second)
      return "entity type " + std::string(c.entity_type) + " appears twice in the filter";
    const bool needs_match = c.match_type == kQuotaMatchExact;
    if (c.match_type < kQuotaMatchExact || c.match_type > kQuotaMatchAny)
      return "unknown match type " + std::to_string(c.match_type);
    if (needs_match != c.match.has_value())
      return needs_match ? "an exact match needs a name" : "only an exact match takes a name";
  }
  return std::nullopt;
}

bool matches(const quota::Entity& entity, const Components& components, bool strict) {
  for (const auto& [type, c] : components) {
    auto it = entity.find(type);
    if (it == entity.end()) return false;
    const auto& name = it->second;
    if (c->match_type == kQuotaMatchExact && (!name || *name != *c->match)) return false;
    if (c->match_type == kQuotaMatchDefault && name) return false;
    if (c->match_type == kQuotaMatchAny && !name) return false;
  }
  // Strict: no component of a type the filter does not name.
  return !strict || entity.size() == components.size();
}

// The request entry as an alteration; a one-line reason when invalid.
std::optional<std::string> alteration_of(const AlterClientQuotasRequest::Entry& e,
                                         bool validate_only, quota::Alteration& out) {
  out.validate_only = validate_only;
  for (const auto& part : e.entity) {
    std::optional<std::string> name;
    if (part.entity_name) name = std::string(*part.entity_name);
    if (!out.entity.emplace(std::string(part.entity_type), std::move(name)).second)
      return "entity type " + std::string(part.entity_type) + " appears twice";
  }
  for (const auto& op : e.ops) {
    out.ops.push_back({std::string(op.key), op.remove ? std::nullopt : std::optional(op.value)});
  }
  return quota::validate_alteration(out);
}

}  // namespace

void handle_describe_client_quotas(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<DescribeClientQuotasRequest>(ex->request.body);
  DescribeClientQuotasResponse resp;
  Components components;
  if (!AccessCheck(*ex).cluster(AclOperation::kDescribeConfigs)) {
    resp.error_code = ErrorCode::kClusterAuthorizationFailed;
  } else if (auto why = components_of(req, components)) {
    resp.error_code = ErrorCode::kInvalidRequest;
    resp.error_message = *why;
  }
  if (resp.error_code != ErrorCode::kNone) {
    ex->respond(make_response(*ex, resp, resp.error_code));
    return;
  }
  auto image = ctx.backend.metadata();
  auto& entries = resp.entries.emplace();
  for (const auto& [entity, values] : image->client_quotas) {
    if (!matches(entity, components, req.strict)) continue;
    DescribeClientQuotasResponse::Entry entry;
    entry.entity = entity_data(entity);
    for (const auto& [key, value] : values) entry.values.push_back({key, value});
    entries.push_back(std::move(entry));
  }
  ex->respond(make_response(*ex, resp));
}

void handle_alter_client_quotas(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<AlterClientQuotasRequest>(ex->request.body);
  auto st = std::make_shared<PendingAnswer<AlterClientQuotasResponse>>();
  st->resp.entries.resize(req.entries.size());
  const bool allowed = AccessCheck(*ex).cluster(AclOperation::kAlterConfigs);
  auto done = answer_when_done(ex, st, &AlterClientQuotasResponse::entries);
  for (size_t i = 0; i < req.entries.size(); ++i) {
    auto& out = st->resp.entries[i];
    for (const auto& part : req.entries[i].entity) {
      out.entity.push_back(
          {std::string(part.entity_type),
           part.entity_name ? std::optional(std::string(*part.entity_name)) : std::nullopt});
    }
    if (!allowed) {
      out.error_code = ErrorCode::kClusterAuthorizationFailed;
      continue;
    }
    quota::Alteration alteration;
    if (auto why = alteration_of(req.entries[i], req.validate_only, alteration)) {
      out.error_code = ErrorCode::kInvalidRequest;
      out.error_message = *why;
      continue;
    }
    if (req.validate_only) continue;
    ++st->pending;
    ctx.controller.alter_client_quotas(quota::alteration_to_json(alteration),
                                       [st, i, done](const broker::AdminResult& r) {
                                         auto& o = st->resp.entries[i];
                                         o.error_code = admin_error(r);
                                         if (o.error_code != ErrorCode::kNone)
                                           o.error_message = r.message;
                                         done();
                                       });
  }
  done();
}

}  // namespace dmq::kafka
