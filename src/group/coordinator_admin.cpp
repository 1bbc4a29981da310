// FindCoordinator and the admin APIs (ListGroups, DescribeGroups,
// DeleteGroups), plus the views GET /v1/groups reads.
#include <memory>

#include "group/consumer_protocol.h"
#include "group/coordinator.h"
#include "group/coordinator_internal.h"
#include "kafka/server/authorize.h"

namespace dmq::group {

std::pair<int32_t, int32_t> Coordinator::locate(const std::string& id) const {
  return locate_in(kOffsetsTopic, id);
}

std::pair<int32_t, int32_t> Coordinator::locate_in(std::string_view topic,
                                                   const std::string& id) const {
  auto image = backend_.metadata();
  auto it = image->topics.find(topic);
  if (it == image->topics.end() || it->second.partitions.empty()) return {-1, -1};
  int32_t p = partition_for(id, static_cast<int32_t>(it->second.partitions.size()));
  return {p, it->second.partitions[static_cast<size_t>(p)].leader.value};
}

void Coordinator::handle_find_coordinator(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::FindCoordinatorRequest>(ex->request.body);
  const int16_t v = ex->request.header.api_version;
  auto image = backend_.metadata();
  if (req.key_type == 0 && !image->topics.count(kOffsetsTopic)) maybe_create_offsets_topic();
  if (req.key_type == 1 && !image->topics.count(kTransactionStateTopic)) {
    maybe_create_internal_topic(std::string(kTransactionStateTopic),
                                options_.transaction_state_log_num_partitions,
                                options_.transaction_state_log_replication_factor);
  }
  const kafka::AccessCheck access(*ex);

  // One key's answer: the leader of the group's __consumer_offsets partition.
  auto answer = [&](std::string_view key) {
    kafka::FindCoordinatorResponse::Coordinator c;
    c.key = std::string(key);
    if (req.key_type == 1) {
      if (!access.allowed(kafka::AclOperation::kDescribe, kafka::ResourceType::kTransactionalId,
                          key)) {
        c.error_code = kafka::ErrorCode::kTransactionalIdAuthorizationFailed;
        return c;
      }
    } else if (req.key_type != 0) {
      c.error_code = kafka::ErrorCode::kInvalidRequest;
      return c;
    } else if (!access.group(kafka::AclOperation::kDescribe, key)) {
      c.error_code = kafka::ErrorCode::kGroupAuthorizationFailed;
      return c;
    }
    auto [partition, leader] =
        locate_in(req.key_type == 1 ? kTransactionStateTopic : kOffsetsTopic, c.key);
    auto broker = image->brokers.find(cluster::BrokerId(leader));
    if (leader == backend_.node_id().value) {
      c.node_id = leader;
      const HostPort& self = kafka::advertised_address(options_, *ex);
      c.host = self.host;
      c.port = self.port;
    } else if (leader >= 0 && broker != image->brokers.end() && !broker->second.fenced) {
      c.node_id = leader;
      c.host = broker->second.kafka_host;
      c.port = broker->second.kafka_port;
    } else {
      c.error_code = kafka::ErrorCode::kCoordinatorNotAvailable;
    }
    return c;
  };

  kafka::FindCoordinatorResponse resp;
  if (v >= 4) {
    for (auto key : req.coordinator_keys) resp.coordinators.push_back(answer(key));
    ex->respond(kafka::make_response(*ex, resp));
    return;
  }
  auto c = answer(req.key);
  resp.error_code = c.error_code;
  resp.node_id = c.node_id;
  resp.host = c.host;
  resp.port = c.port;
  ex->respond(kafka::make_response(*ex, resp, resp.error_code));
}

std::vector<GroupListing> Coordinator::list_groups() const {
  std::vector<GroupListing> out;
  for (const auto& [id, entry] : groups_) {
    const Group& g = *entry.group;
    out.push_back(GroupListing{id, std::string(state_name(g.state())), g.protocol_type(),
                               g.members().size()});
  }
  return out;
}

void Coordinator::handle_list_groups(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::ListGroupsRequest>(ex->request.body);
  kafka::ListGroupsResponse resp;
  // Kafka: DESCRIBE on the cluster lists every group, else those the principal may DESCRIBE.
  const kafka::AccessCheck access(*ex);
  const bool all = access.cluster(kafka::AclOperation::kDescribe);
  for (const auto& [p, slot] : slots_) {
    if (slot.status == SlotStatus::kLoading) resp.error_code = to_kafka(Error::kLoadInProgress);
  }
  for (const auto& g : list_groups()) {
    if (!all && !access.group(kafka::AclOperation::kDescribe, g.group_id)) continue;
    if (!req.states_filter.empty()) {
      bool wanted = false;
      for (auto s : req.states_filter) {
        auto state = parse_state(s);
        wanted |= state && state_name(*state) == g.state;
      }
      if (!wanted) continue;
    }
    resp.groups.push_back(kafka::ListGroupsResponse::Group{g.group_id, g.protocol_type, g.state});
  }
  ex->respond(kafka::make_response(*ex, resp, resp.error_code));
}

void Coordinator::handle_describe_groups(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::DescribeGroupsRequest>(ex->request.body);
  kafka::DescribeGroupsResponse resp;
  const kafka::AccessCheck access(*ex);
  for (auto id : req.groups) {
    kafka::DescribeGroupsResponse::Group out;
    out.group_id = std::string(id);
    if (!access.group(kafka::AclOperation::kDescribe, id)) {
      out.error_code = kafka::ErrorCode::kGroupAuthorizationFailed;
      resp.groups.push_back(std::move(out));
      continue;
    }
    Error e = check_group(id);
    out.error_code = to_kafka(e);
    if (e == Error::kNone) {
      const Entry* entry = find(id);
      if (!entry) {
        out.group_state = "Dead";  // Kafka's answer for an unknown group (DescribeGroups < v6)
      } else {
        const Group& g = *entry->group;
        out.group_state = std::string(state_name(g.state()));
        out.protocol_type = g.protocol_type();
        out.protocol_data = g.protocol_name().value_or("");
        for (const auto& m : g.members()) {
          out.members.push_back(
              kafka::DescribeGroupsResponse::Member{m.member_id, m.group_instance_id, m.client_id,
                                                    m.client_host, m.metadata, m.assignment});
        }
      }
    }
    resp.groups.push_back(std::move(out));
  }
  ex->respond(kafka::make_response(*ex, resp));
}

void Coordinator::handle_delete_groups(const kafka::ExchangePtr& ex) {
  const auto& req = std::get<kafka::DeleteGroupsRequest>(ex->request.body);
  struct Pending {
    kafka::DeleteGroupsResponse resp;
    size_t outstanding = 0;
  };
  auto pending = std::make_shared<Pending>();
  auto maybe_answer = [ex, pending] {
    if (pending->outstanding == 0) ex->respond(kafka::make_response(*ex, pending->resp));
  };
  const kafka::AccessCheck access(*ex);
  for (auto name : req.groups_names) {
    const std::string id(name);
    pending->resp.results.push_back({id, kafka::ErrorCode::kNone});
    const size_t index = pending->resp.results.size() - 1;
    if (!access.group(kafka::AclOperation::kDelete, id)) {
      pending->resp.results[index].error_code = kafka::ErrorCode::kGroupAuthorizationFailed;
      continue;
    }
    Error e = check_group(id);
    Entry* entry = e == Error::kNone ? find(id) : nullptr;
    if (e == Error::kNone && !entry) e = Error::kGroupIdNotFound;
    if (e == Error::kNone && entry->group->has_members()) e = Error::kNonEmptyGroup;
    if (e != Error::kNone) {
      pending->resp.results[index].error_code = to_kafka(e);
      continue;
    }
    // Tombstones for every offset and for the group itself; the group goes
    // once they are acknowledged.
    std::vector<Record> records;
    for (const auto& [tp, o] : entry->group->offsets())
      records.push_back({encode_offset_key(id, tp), std::nullopt});
    records.push_back({encode_group_key(id), std::nullopt});
    pending->outstanding++;
    append(entry->partition, records, [this, id, index, pending, maybe_answer](Error e, int64_t) {
      pending->outstanding--;
      pending->resp.results[index].error_code = to_kafka(e);
      if (e == Error::kNone) {
        if (Entry* entry = find(id); entry && !entry->group->has_members()) {
          entry->group->become_dead(Error::kCoordinatorNotAvailable);
          deliver(entry->group->take_replies(), Error::kNone);
          groups_.erase(id);
        }
      }
      maybe_answer();
    });
  }
  maybe_answer();
}

std::string Coordinator::status_of(const std::string& id) const {
  switch (check_group(id)) {
    case Error::kNone:
      return "";
    case Error::kLoadInProgress:
      return "loading";
    default:
      return "not_coordinator";
  }
}

std::optional<GroupDetail> Coordinator::describe(const std::string& id) const {
  const Entry* entry = find(id);
  if (!entry) return std::nullopt;
  const Group& g = *entry->group;
  GroupDetail d;
  d.group_id = id;
  d.coordinator = backend_.node_id().value;
  d.offsets_partition = entry->partition;
  d.state = std::string(state_name(g.state()));
  d.protocol_type = g.protocol_type();
  d.protocol = g.protocol_name().value_or("");
  d.generation_id = g.generation_id();
  d.leader = g.leader_id().value_or("");
  for (const auto& m : g.members()) {
    MemberAssignment ma;
    ma.member = m;
    if (g.protocol_type() == "consumer") {
      if (auto parts = decode_assignment(m.assignment)) ma.assigned = std::move(*parts);
    }
    d.members.push_back(std::move(ma));
  }
  for (const auto& [tp, o] : g.offsets()) {
    PartitionLag pl;
    pl.tp = tp;
    pl.committed = o;
    pl.high_watermark = high_watermark(tp);
    if (pl.high_watermark) pl.lag = std::max<int64_t>(0, *pl.high_watermark - o.offset);
    d.offsets.push_back(std::move(pl));
  }
  return d;
}

}  // namespace dmq::group
