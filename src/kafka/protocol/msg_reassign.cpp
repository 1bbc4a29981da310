#include "kafka/protocol/msg_reassign.h"

namespace dmq::kafka {
namespace {

template <class IO, MessageOf<ElectLeadersRequest> M>
void serde(IO& io, M& m) {
  if (io.version() >= 1) io.i8(m.election_type);
  io.narray(m.topic_partitions, [&](auto& t) {
    io.string(t.topic);
    serde_i32_array(io, t.partitions);
    io.tags();
  });
  io.i32(m.timeout_ms);
  io.tags();
}

template <class IO, MessageOf<ElectLeadersResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  if (io.version() >= 1) io.error(m.error_code);
  io.array(m.replica_election_results, [&](auto& r) {
    io.string(r.topic);
    io.array(r.partition_result, [&](auto& p) {
      io.i32(p.partition_id);
      io.error(p.error_code);
      io.nstring(p.error_message);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<AlterPartitionReassignmentsRequest> M>
void serde(IO& io, M& m) {
  io.i32(m.timeout_ms);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.narray(p.replicas, [&](auto& id) { io.i32(id); });
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<AlterPartitionReassignmentsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.nstring(m.error_message);
  io.array(m.responses, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.error(p.error_code);
      io.nstring(p.error_message);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<ListPartitionReassignmentsRequest> M>
void serde(IO& io, M& m) {
  io.i32(m.timeout_ms);
  io.narray(m.topics, [&](auto& t) {
    io.string(t.name);
    serde_i32_array(io, t.partition_indexes);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<ListPartitionReassignmentsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.nstring(m.error_message);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      serde_i32_array(io, p.replicas);
      serde_i32_array(io, p.adding_replicas);
      serde_i32_array(io, p.removing_replicas);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

}  // namespace

DMQ_KAFKA_DEFINE_CODEC(ElectLeadersRequest)
DMQ_KAFKA_DEFINE_CODEC(ElectLeadersResponse)
DMQ_KAFKA_DEFINE_CODEC(AlterPartitionReassignmentsRequest)
DMQ_KAFKA_DEFINE_CODEC(AlterPartitionReassignmentsResponse)
DMQ_KAFKA_DEFINE_CODEC(ListPartitionReassignmentsRequest)
DMQ_KAFKA_DEFINE_CODEC(ListPartitionReassignmentsResponse)

ElectLeadersResponse make_error_response(const ElectLeadersRequest& req, int16_t, ErrorCode error) {
  ElectLeadersResponse r;
  r.error_code = error;
  if (!req.topic_partitions) return r;
  for (const auto& t : *req.topic_partitions) {
    auto& out = r.replica_election_results.emplace_back();
    out.topic = std::string(t.topic);
    for (int32_t p : t.partitions) out.partition_result.push_back({p, error, std::nullopt});
  }
  return r;
}

AlterPartitionReassignmentsResponse make_error_response(
    const AlterPartitionReassignmentsRequest& req, int16_t, ErrorCode error) {
  AlterPartitionReassignmentsResponse r;
  r.error_code = error;
  for (const auto& t : req.topics) {
    auto& out = r.responses.emplace_back();
    out.name = std::string(t.name);
    for (const auto& p : t.partitions) out.partitions.push_back({p.partition_index, error, {}});
  }
  return r;
}

ListPartitionReassignmentsResponse make_error_response(const ListPartitionReassignmentsRequest&,
                                                       int16_t, ErrorCode error) {
  ListPartitionReassignmentsResponse r;
  r.error_code = error;
  return r;
}

}  // namespace dmq::kafka
