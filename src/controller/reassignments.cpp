// Partition reassignment, rebalancing and leader elections over REST
// (DESIGN.md §5), each planned on the leader's current state by the pure
// functions of cluster/reassignment.h and cluster/rebalance.h and committed as
// one batch. The completion of a reassignment is the leader's tick
// (maybe_fence_or_rebalance), not a request.
#include <httplib.h>

#include <charconv>

#include "cluster/json_views.h"
#include "common/log.h"
#include "controller/controller_service.h"
#include "net/json_body.h"

namespace dmq::controller {

net::HttpResponse ControllerService::handle_reassign_partition(const httplib::Request& req) {
  const std::string topic = req.matches[1];
  const std::string digits = req.matches[2];
  int32_t index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    return net::json_error(400, "invalid_request", "partition must be an integer");
  }
  const cluster::PartitionId partition{index};
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  auto target = cluster::parse_replicas_body(doc);
  if (!target) return cluster_error(target.error());
  return propose_and_wait(
      [=, replicas = target.value()](
          const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        auto change = cluster::plan_reassignment(state, topic, partition, replicas);
        if (!change) return change.error();
        if (!change.value()) return cluster::RecordBatch{};
        LOG_INFO("controller") << "reassigning " << topic << "-" << index;
        return cluster::RecordBatch{std::move(*change.value())};
      },
      [this, topic, partition](raft::LogIndex) {
        std::optional<std::string> body;
        metadata_.with_state([&](const cluster::MetadataState& state) {
          body = cluster::partition_reassignment_json(state, topic, partition);
        });
        return net::HttpResponse{200, body.value_or("{}")};
      });
}

net::HttpResponse ControllerService::handle_list_reassignments(const httplib::Request&) {
  std::string body;
  metadata_.with_state(
      [&](const cluster::MetadataState& state) { body = cluster::reassignments_json(state); });
  return net::HttpResponse{200, body};
}

net::HttpResponse ControllerService::handle_rebalance(const httplib::Request& req) {
  if (!req.body.empty()) {
    rapidjson::Document doc;
    if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  }
  auto moves = std::make_shared<std::vector<cluster::PartitionMove>>();
  return propose_and_wait(
      [moves](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        *moves = cluster::plan_rebalance(state);
        cluster::RecordBatch batch;
        for (const cluster::PartitionMove& m : *moves) {
          auto change = cluster::plan_reassignment(state, m.topic, m.partition, m.to);
          if (!change) return change.error();
          if (change.value()) batch.push_back(std::move(*change.value()));
        }
        if (!batch.empty()) {
          LOG_INFO("controller") << "rebalance: " << batch.size() << " partitions move";
        }
        return batch;
      },
      [moves](raft::LogIndex) {
        return net::HttpResponse{200, cluster::moves_json(*moves)};
      });
}

net::HttpResponse ControllerService::handle_elect_leaders(const httplib::Request& req) {
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  auto request = cluster::parse_elect_leaders_body(doc);
  if (!request) return cluster_error(request.error());
  auto results = std::make_shared<std::vector<cluster::ElectionResult>>();
  return propose_and_wait(
      [results, r = request.value()](
          const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        cluster::ElectionPlan plan = cluster::plan_elect_leaders(state, r.type, r.partitions);
        *results = std::move(plan.results);
        return std::move(plan.batch);
      },
      [results](raft::LogIndex) {
        return net::HttpResponse{200, cluster::election_results_json(*results)};
      });
}

}  // namespace dmq::controller
