// AlterPartitionReassignments, ListPartitionReassignments (KIP-455) and
// ElectLeaders (KIP-460). Writes go to the controllers (REST, see
// controller/reassignments.cpp); the list is answered from this broker's
// metadata image. ACLs as Kafka: ALTER on the cluster for the writes,
// DESCRIBE on the cluster for the list.
#include <algorithm>

#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

struct AlterState {
  ExchangePtr ex;
  AlterPartitionReassignmentsResponse resp;
  int pending = 1;
};

void finish_alter(const std::shared_ptr<AlterState>& st) {
  if (--st->pending == 0) st->ex->respond(make_response(*st->ex, st->resp, ErrorCode::kNone));
}

// The original replicas of a partition being reassigned (its cancellation
// target), or an error: unknown partition, no reassignment in progress.
ErrorCode cancel_target(const cluster::MetadataImage& image, std::string_view topic,
                        int32_t partition, std::vector<int32_t>* out) {
  auto t = image.topics.find(topic);
  if (t == image.topics.end() || partition < 0 ||
      static_cast<size_t>(partition) >= t->second.partitions.size()) {
    return ErrorCode::kUnknownTopicOrPartition;
  }
  const cluster::PartitionState& p = t->second.partitions[partition];
  if (!p.reassigning()) return ErrorCode::kNoReassignmentInProgress;
  for (cluster::BrokerId b : p.replicas) {
    if (std::find(p.adding_replicas.begin(), p.adding_replicas.end(), b) ==
        p.adding_replicas.end()) {
      out->push_back(b.value);
    }
  }
  return ErrorCode::kNone;
}

ErrorCode election_error(const std::string& result) {
  if (result == "elected") return ErrorCode::kNone;
  if (result == "election_not_needed") return ErrorCode::kElectionNotNeeded;
  if (result == "preferred_leader_not_available") return ErrorCode::kPreferredLeaderNotAvailable;
  if (result == "eligible_leaders_not_available") return ErrorCode::kEligibleLeadersNotAvailable;
  return ErrorCode::kUnknownTopicOrPartition;
}

}  // namespace

void handle_alter_partition_reassignments(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<AlterPartitionReassignmentsRequest>(ex->request.body);
  if (!AccessCheck(*ex).cluster(AclOperation::kAlter)) {
    ex->respond(make_error(*ex, ErrorCode::kClusterAuthorizationFailed));
    return;
  }
  auto st = std::make_shared<AlterState>();
  st->ex = ex;
  auto image = ctx.backend.metadata();
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    const auto& t = req.topics[ti];
    auto& out_topic = st->resp.responses.emplace_back();
    out_topic.name = std::string(t.name);
    for (size_t pi = 0; pi < t.partitions.size(); ++pi) {
      const auto& p = t.partitions[pi];
      out_topic.partitions.push_back({p.partition_index, ErrorCode::kNone, std::nullopt});
      std::vector<int32_t> target;
      if (p.replicas) {
        target = *p.replicas;
      } else if (ErrorCode e = cancel_target(*image, t.name, p.partition_index, &target);
                 e != ErrorCode::kNone) {
        out_topic.partitions.back().error_code = e;
        continue;
      }
      ++st->pending;
      ctx.controller.reassign_partition(out_topic.name, p.partition_index, target,
                                        [st, ti, pi](const broker::AdminResult& r) {
                                          auto& o = st->resp.responses[ti].partitions[pi];
                                          o.error_code = admin_error(r);
                                          if (o.error_code != ErrorCode::kNone)
                                            o.error_message = r.message;
                                          finish_alter(st);
                                        });
    }
  }
  finish_alter(st);
}

void handle_list_partition_reassignments(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<ListPartitionReassignmentsRequest>(ex->request.body);
  if (!AccessCheck(*ex).cluster(AclOperation::kDescribe)) {
    ex->respond(make_error(*ex, ErrorCode::kClusterAuthorizationFailed));
    return;
  }
  ListPartitionReassignmentsResponse resp;
  auto image = ctx.backend.metadata();
  auto add = [&](const std::string& name, const cluster::PartitionState& p) {
    if (!p.reassigning()) return;
    if (resp.topics.empty() || resp.topics.back().name != name) resp.topics.push_back({name, {}});
    auto& out = resp.topics.back().partitions.emplace_back();
    out.partition_index = p.id.value;
    for (auto b : p.replicas) out.replicas.push_back(b.value);
    for (auto b : p.adding_replicas) out.adding_replicas.push_back(b.value);
    for (auto b : p.removing_replicas) out.removing_replicas.push_back(b.value);
  };
  if (!req.topics) {
    for (const auto& [name, t] : image->topics) {
      for (const auto& p : t.partitions) add(name, p);
    }
  } else {
    // Kafka lists only the requested partitions that are being reassigned.
    for (const auto& t : *req.topics) {
      auto it = image->topics.find(t.name);
      if (it == image->topics.end()) continue;
      for (int32_t index : t.partition_indexes) {
        if (index >= 0 && static_cast<size_t>(index) < it->second.partitions.size()) {
          add(it->first, it->second.partitions[index]);
        }
      }
    }
  }
  ex->respond(make_response(*ex, resp, ErrorCode::kNone));
}

void handle_elect_leaders(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<ElectLeadersRequest>(ex->request.body);
  if (!AccessCheck(*ex).cluster(AclOperation::kAlter)) {
    ex->respond(make_error(*ex, ErrorCode::kClusterAuthorizationFailed));
    return;
  }
  if (req.election_type != 0 && req.election_type != 1) {
    ex->respond(make_error(*ex, ErrorCode::kInvalidRequest));
    return;
  }
  std::optional<std::vector<std::pair<std::string, int32_t>>> partitions;
  if (req.topic_partitions) {
    partitions.emplace();
    for (const auto& t : *req.topic_partitions) {
      for (int32_t p : t.partitions) partitions->emplace_back(std::string(t.topic), p);
    }
  }
  ctx.controller.elect_leaders(
      req.election_type == 1, partitions,
      [ex](const broker::AdminResult& r, const std::vector<broker::ElectionRow>& rows) {
        if (!r.ok()) {
          ex->respond(make_error(*ex, admin_error(r)));
          return;
        }
        ElectLeadersResponse resp;
        for (const auto& row : rows) {
          if (resp.replica_election_results.empty() ||
              resp.replica_election_results.back().topic != row.topic) {
            resp.replica_election_results.push_back({row.topic, {}});
          }
          const ErrorCode e = election_error(row.result);
          std::optional<std::string> message;
          if (e != ErrorCode::kNone) message = row.result;
          resp.replica_election_results.back().partition_result.push_back(
              {row.partition, e, message});
        }
        ex->respond(make_response(*ex, resp, ErrorCode::kNone));
      });
}

}  // namespace dmq::kafka
