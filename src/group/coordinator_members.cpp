// Membership APIs: JoinGroup, SyncGroup, Heartbeat, LeaveGroup. The rules
// live in Group (group.h); this file converts wire structs, parks requests
// and answers them.
#include "group/coordinator.h"
#include "group/coordinator_internal.h"
#include "kafka/server/authorize.h"

namespace dmq::group {
namespace {

std::optional<std::string> opt(const std::optional<std::string_view>& v) {
  if (!v) return std::nullopt;
  return std::string(*v);
}

// Kafka: the membership APIs need READ on the group, checked before anything
// else; false after answering GROUP_AUTHORIZATION_FAILED.
bool may_read_group(const kafka::ExchangePtr& ex, std::string_view group_id) {
  if (kafka::AccessCheck(*ex).group(kafka::AclOperation::kRead, group_id)) return true;
  ex->respond(kafka::make_error(*ex, kafka::ErrorCode::kGroupAuthorizationFailed));
  return false;
}

}  // namespace

void Coordinator::deliver_join(const kafka::ExchangePtr& ex, const JoinAnswer& a) {
  const int16_t v = ex->request.header.api_version;
  kafka::JoinGroupResponse resp;
  resp.error_code = to_kafka(a.error);
  resp.generation_id = a.generation_id;
  if (v >= 7) resp.protocol_type = a.protocol_type;
  // v7+ carries null for "no protocol"; older versions an empty string.
  if (a.protocol_name) {
    resp.protocol_name = *a.protocol_name;
  } else if (v < 7) {
    resp.protocol_name = std::string();
  }
  resp.leader = a.leader_id;
  resp.member_id = a.member_id;
  resp.skip_assignment = a.skip_assignment && v >= 9;
  for (const auto& m : a.members) {
    resp.members.push_back(
        kafka::JoinGroupResponse::Member{m.member_id, m.group_instance_id, m.metadata});
  }
  ex->respond(kafka::make_response(*ex, resp, resp.error_code));
}

void Coordinator::deliver_sync(const kafka::ExchangePtr& ex, const SyncAnswer& a) {
  kafka::SyncGroupResponse resp;
  resp.error_code = to_kafka(a.error);
  if (ex->request.header.api_version >= 5) {
    resp.protocol_type = a.protocol_type;
    resp.protocol_name = a.protocol_name;
  }
  resp.assignment = a.assignment;
  ex->respond(kafka::make_response(*ex, resp, resp.error_code));
}

void Coordinator::handle_join(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::JoinGroupRequest>(ex->request.body);
  if (!may_read_group(ex, req.group_id)) return;
  const int16_t v = ex->request.header.api_version;
  JoinAnswer fail;
  fail.member_id = std::string(req.member_id);
  int32_t partition = -1;
  if (Error e = check_group(req.group_id, &partition); e != Error::kNone) {
    fail.error = e;
    return deliver_join(ex, fail);
  }
  Entry* entry = find(req.group_id);
  if (!entry) {
    // Only a new member may create a group.
    if (!req.member_id.empty()) {
      fail.error = Error::kUnknownMemberId;
      return deliver_join(ex, fail);
    }
    entry = &create(std::string(req.group_id), partition);
  }
  JoinParams p;
  p.member_id = std::string(req.member_id);
  p.group_instance_id = opt(req.group_instance_id);
  p.client_id = std::string(ex->request.header.client_id.value_or(""));
  p.client_host = "";  // the Exchange does not carry the peer address
  p.session_timeout_ms = req.session_timeout_ms;
  p.rebalance_timeout_ms = v >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  p.protocol_type = std::string(req.protocol_type);
  for (const auto& proto : req.protocols) {
    p.protocols.push_back(Protocol{std::string(proto.name), std::string(proto.metadata)});
  }
  // KIP-394: JoinGroup v4+ without a member id first gets one to come back with.
  p.require_known_member_id = v >= 4 && !p.group_instance_id;
  run_parked(*entry, ex, [&](Token token) { return entry->group->handle_join(p, token, now()); });
}

void Coordinator::handle_sync(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::SyncGroupRequest>(ex->request.body);
  if (!may_read_group(ex, req.group_id)) return;
  SyncAnswer fail;
  if (Error e = check_group(req.group_id); e != Error::kNone) {
    fail.error = e;
    return deliver_sync(ex, fail);
  }
  Entry* entry = find(req.group_id);
  if (!entry) {
    fail.error = Error::kUnknownMemberId;
    return deliver_sync(ex, fail);
  }
  SyncParams p;
  p.member_id = std::string(req.member_id);
  p.group_instance_id = opt(req.group_instance_id);
  p.generation_id = req.generation_id;
  p.protocol_type = opt(req.protocol_type);
  p.protocol_name = opt(req.protocol_name);
  for (const auto& a : req.assignments) {
    p.assignments[std::string(a.member_id)] = std::string(a.assignment);
  }
  run_parked(*entry, ex, [&](Token token) { return entry->group->handle_sync(p, token, now()); });
}

void Coordinator::handle_heartbeat(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::HeartbeatRequest>(ex->request.body);
  if (!may_read_group(ex, req.group_id)) return;
  kafka::HeartbeatResponse resp;
  Error e = check_group(req.group_id);
  if (e == Error::kNone) {
    if (Entry* entry = find(req.group_id)) {
      e = entry->group->handle_heartbeat(std::string(req.member_id), opt(req.group_instance_id),
                                         req.generation_id, now());
      after_group_op(*entry);
    } else {
      e = Error::kUnknownMemberId;
    }
  }
  resp.error_code = to_kafka(e);
  ex->respond(kafka::make_response(*ex, resp, resp.error_code));
}

void Coordinator::handle_leave(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::LeaveGroupRequest>(ex->request.body);
  if (!may_read_group(ex, req.group_id)) return;
  const int16_t v = ex->request.header.api_version;
  std::vector<std::pair<std::string, std::optional<std::string>>> leaving;
  if (v >= 3) {
    for (const auto& m : req.members)
      leaving.emplace_back(std::string(m.member_id), opt(m.group_instance_id));
  } else {
    leaving.emplace_back(std::string(req.member_id), std::nullopt);
  }
  kafka::LeaveGroupResponse resp;
  Error top = check_group(req.group_id);
  if (top == Error::kNone) {
    Entry* entry = find(req.group_id);
    for (const auto& [member_id, instance_id] : leaving) {
      Error e = entry ? entry->group->handle_leave(member_id, instance_id, now())
                      : Error::kUnknownMemberId;
      resp.members.push_back(
          kafka::LeaveGroupResponse::Member{member_id, instance_id, to_kafka(e)});
    }
    if (entry) after_group_op(*entry);
    // Before v3 the one member's outcome is the answer.
    if (v < 3 && !resp.members.empty()) resp.error_code = resp.members[0].error_code;
  } else {
    resp.error_code = to_kafka(top);
  }
  if (v < 3) resp.members.clear();
  ex->respond(kafka::make_response(*ex, resp, resp.error_code));
}

}  // namespace dmq::group
