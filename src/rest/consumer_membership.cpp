// ConsumerInstances: the member's side of Kafka's classic group protocol
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), against the local coordinator.
#include <algorithm>
#include <set>

#include "group/consumer_protocol.h"
#include "kafka/protocol/consumer_assignor.h"
#include "rest/consumer_instances.h"
#include "rest/consumer_instances_internal.h"
#include "rest/local_group_calls.h"

namespace dmq::rest {

using kafka::ErrorCode;
using TopicPartition = group::TopicPartition;

void ConsumerInstances::join(Instance& in) {
  in.phase = Instance::Phase::kJoining;
  const std::string subscription = kafka::encode_consumer_subscription(in.topics);
  kafka::JoinGroupRequest req;
  req.group_id = in.key.first;
  req.session_timeout_ms = kSessionTimeoutMs;
  req.rebalance_timeout_ms = kRebalanceTimeoutMs;
  req.member_id = in.member_id;
  req.protocol_type = "consumer";
  req.protocols = {{"range", subscription}, {"roundrobin", subscription}};
  const Ref ref = ref_of(in);
  call_local_coordinator<kafka::JoinGroupRequest, kafka::JoinGroupResponse>(
      coordinator_, kJoinVersion, req, [this, ref](std::optional<kafka::JoinGroupResponse> resp) {
        if (!find(ref, false)) return;
        if (!resp) {
          find(ref, false)->phase = Instance::Phase::kOut;  // retried on the next tick
          return;
        }
        on_joined(ref, *resp);
      });
}

void ConsumerInstances::on_joined(const Ref& ref, const kafka::JoinGroupResponse& resp) {
  Instance* in = find(ref, false);
  if (!in || in->phase != Instance::Phase::kJoining) return;
  if (resp.error_code == ErrorCode::kMemberIdRequired) {
    // KIP-394: the first join only learns the member id; join again with it.
    in->member_id = resp.member_id;
    return join(*in);
  }
  if (resp.error_code != ErrorCode::kNone) {
    if (resp.error_code == ErrorCode::kUnknownMemberId) in->member_id.clear();
    in->phase = Instance::Phase::kOut;  // retried on the next tick
    return;
  }
  in->member_id = resp.member_id;
  in->generation = resp.generation_id;
  sync(*in, resp);
}

void ConsumerInstances::sync(Instance& in, const kafka::JoinGroupResponse& joined) {
  // The leader assigns for everyone, by the protocol the coordinator chose.
  std::vector<std::pair<std::string, std::string>> assignments;
  if (joined.leader == joined.member_id) {
    assignments = kafka::leader_assignments(joined.protocol_name.value_or("range"), joined.members,
                                            partition_counts());
  }
  kafka::SyncGroupRequest req;
  req.group_id = in.key.first;
  req.generation_id = in.generation;
  req.member_id = in.member_id;
  for (const auto& [member, bytes] : assignments) req.assignments.push_back({member, bytes});
  const Ref ref = ref_of(in);
  call_local_coordinator<kafka::SyncGroupRequest, kafka::SyncGroupResponse>(
      coordinator_, kSyncVersion, req, [this, ref](std::optional<kafka::SyncGroupResponse> resp) {
        Instance* in = find(ref, true);
        if (!in || in->phase != Instance::Phase::kJoining) return;
        if (!resp || resp->error_code != ErrorCode::kNone) {
          in->phase = Instance::Phase::kOut;  // rejoins on the next tick
          return;
        }
        on_synced(ref, *resp);
      });
}

void ConsumerInstances::on_synced(const Ref& ref, const kafka::SyncGroupResponse& resp) {
  Instance* in = find(ref, true);
  if (!in) return;
  auto assigned = group::decode_assignment(resp.assignment).value_or(std::vector<TopicPartition>{});
  std::sort(assigned.begin(), assigned.end());
  std::set<TopicPartition> now(assigned.begin(), assigned.end());
  // Partitions kept across the rebalance keep their positions; the others go.
  std::erase_if(in->positions, [&](const auto& kv) { return !now.count(kv.first); });
  std::erase_if(in->committed, [&](const auto& kv) { return !now.count(kv.first); });
  in->assigned = std::move(assigned);
  in->last_heartbeat_ms = now_ms();
  fetch_start_positions(*in);
}

// The committed offsets of the partitions that have no position yet; the
// instance is Stable (polls read) once they are known.
void ConsumerInstances::fetch_start_positions(Instance& in) {
  std::map<std::string, std::vector<int32_t>> wanted;
  for (const auto& tp : in.assigned)
    if (!in.positions.count(tp)) wanted[tp.topic].push_back(tp.partition);
  if (wanted.empty()) return become_stable(in);
  kafka::OffsetFetchRequest req;
  req.group_id = in.key.first;
  req.topics.emplace();
  for (const auto& [topic, parts] : wanted) req.topics->push_back({topic, parts});
  const Ref ref = ref_of(in);
  call_local_coordinator<kafka::OffsetFetchRequest, kafka::OffsetFetchResponse>(
      coordinator_, kFetchOffsetsVersion, req,
      [this, ref](std::optional<kafka::OffsetFetchResponse> resp) {
        Instance* in = find(ref, true);
        if (!in || in->phase != Instance::Phase::kJoining) return;
        if (!resp || resp->error_code != ErrorCode::kNone) {
          in->phase = Instance::Phase::kOut;  // rejoins on the next tick
          return;
        }
        for (const auto& t : resp->topics)
          for (const auto& p : t.partitions)
            if (p.error_code == ErrorCode::kNone && p.committed_offset >= 0) {
              in->positions[{t.name, p.partition_index}] = p.committed_offset;
              in->committed[{t.name, p.partition_index}] = p.committed_offset;
            }
        become_stable(*in);
      });
}

void ConsumerInstances::become_stable(Instance& in) {
  in.phase = Instance::Phase::kStable;
  if (!in.resubscribed) return;
  in.resubscribed = false;
  rejoin(in);
}

void ConsumerInstances::heartbeat(Instance& in) {
  in.heartbeat_in_flight = true;
  in.last_heartbeat_ms = now_ms();
  kafka::HeartbeatRequest req;
  req.group_id = in.key.first;
  req.generation_id = in.generation;
  req.member_id = in.member_id;
  const Ref ref = ref_of(in);
  call_local_coordinator<kafka::HeartbeatRequest, kafka::HeartbeatResponse>(
      coordinator_, kHeartbeatVersion, req,
      [this, ref](std::optional<kafka::HeartbeatResponse> resp) {
        on_heartbeat(ref, resp ? resp->error_code : ErrorCode::kUnknownServerError);
      });
}

void ConsumerInstances::on_heartbeat(const Ref& ref, ErrorCode error) {
  Instance* in = find(ref, false);
  if (!in) return;
  in->heartbeat_in_flight = false;
  if (in->generation != ref.generation || in->phase != Instance::Phase::kStable) return;
  if (error == ErrorCode::kNone) return;
  if (error == ErrorCode::kUnknownMemberId) drop_membership(*in);
  rejoin(*in);
}

// Leaves the current generation and joins again: after committing what was
// consumed (with auto.commit.enable), as a Kafka consumer does when its
// partitions are revoked, so the next owner starts where this one stopped.
void ConsumerInstances::rejoin(Instance& in) {
  if (in.phase == Instance::Phase::kJoining) return;  // the join under way carries the change
  if (in.phase != Instance::Phase::kStable) {
    in.phase = Instance::Phase::kOut;
    return;
  }
  in.phase = Instance::Phase::kJoining;
  const Ref ref = ref_of(in);
  maybe_auto_commit(in, [this, ref](std::optional<net::HttpResponse>) {
    Instance* in = find(ref, false);
    if (!in || in->topics.empty()) return;
    join(*in);
  });
}

void ConsumerInstances::drop_membership(Instance& in) {
  in.member_id.clear();
  in.generation = -1;
  in.assigned.clear();
  in.positions.clear();
  in.committed.clear();
  in.phase = Instance::Phase::kOut;
}

void ConsumerInstances::leave(Instance& in) {
  if (!in.member_id.empty()) {
    kafka::LeaveGroupRequest req;
    req.group_id = in.key.first;
    req.members.push_back({in.member_id, std::nullopt, std::nullopt});
    call_local_coordinator<kafka::LeaveGroupRequest, kafka::LeaveGroupResponse>(
        coordinator_, kLeaveVersion, req, [](std::optional<kafka::LeaveGroupResponse>) {});
  }
  drop_membership(in);
}

}  // namespace dmq::rest
