#include "kafka/protocol/msg_group.h"

namespace dmq::kafka {
namespace {

// ---- FindCoordinator ------------------------------------------------------------

template <class IO, MessageOf<FindCoordinatorRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v <= 3) io.string(m.key);
  if (v >= 1) io.i8(m.key_type);
  if (v >= 4) serde_string_array(io, m.coordinator_keys);
  io.tags();
}

template <class IO, MessageOf<FindCoordinatorResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 1) io.i32(m.throttle_time_ms);
  if (v <= 3) {
    io.error(m.error_code);
    if (v >= 1) io.nstring(m.error_message);
    io.i32(m.node_id);
    io.string(m.host);
    io.i32(m.port);
  } else {
    io.array(m.coordinators, [&](auto& c) {
      io.string(c.key);
      io.i32(c.node_id);
      io.string(c.host);
      io.i32(c.port);
      io.error(c.error_code);
      io.nstring(c.error_message);
      io.tags();
    });
  }
  io.tags();
}

// ---- JoinGroup ------------------------------------------------------------------

template <class IO, MessageOf<JoinGroupRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  io.string(m.group_id);
  io.i32(m.session_timeout_ms);
  if (v >= 1) io.i32(m.rebalance_timeout_ms);
  io.string(m.member_id);
  if (v >= 5) io.nstring(m.group_instance_id);
  io.string(m.protocol_type);
  io.array(m.protocols, [&](auto& p) {
    io.string(p.name);
    io.bytes(p.metadata);
    io.tags();
  });
  if (v >= 8) io.nstring(m.reason);
  io.tags();
}

template <class IO, MessageOf<JoinGroupResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 2) io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.i32(m.generation_id);
  if (v >= 7) io.nstring(m.protocol_type);
  io.nstring_if(v >= 7, m.protocol_name);
  io.string(m.leader);
  if (v >= 9) io.boolean(m.skip_assignment);
  io.string(m.member_id);
  io.array(m.members, [&](auto& mem) {
    io.string(mem.member_id);
    if (v >= 5) io.nstring(mem.group_instance_id);
    io.bytes(mem.metadata);
    io.tags();
  });
  io.tags();
}

// ---- SyncGroup ------------------------------------------------------------------

template <class IO, MessageOf<SyncGroupRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  io.string(m.group_id);
  io.i32(m.generation_id);
  io.string(m.member_id);
  if (v >= 3) io.nstring(m.group_instance_id);
  if (v >= 5) {
    io.nstring(m.protocol_type);
    io.nstring(m.protocol_name);
  }
  io.array(m.assignments, [&](auto& a) {
    io.string(a.member_id);
    io.bytes(a.assignment);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<SyncGroupResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 1) io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  if (v >= 5) {
    io.nstring(m.protocol_type);
    io.nstring(m.protocol_name);
  }
  io.bytes(m.assignment);
  io.tags();
}

// ---- Heartbeat ------------------------------------------------------------------

template <class IO, MessageOf<HeartbeatRequest> M>
void serde(IO& io, M& m) {
  io.string(m.group_id);
  io.i32(m.generation_id);
  io.string(m.member_id);
  if (io.version() >= 3) io.nstring(m.group_instance_id);
  io.tags();
}

template <class IO, MessageOf<HeartbeatResponse> M>
void serde(IO& io, M& m) {
  if (io.version() >= 1) io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.tags();
}

// ---- LeaveGroup -----------------------------------------------------------------

template <class IO, MessageOf<LeaveGroupRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  io.string(m.group_id);
  if (v <= 2) {
    io.string(m.member_id);
  } else {
    io.array(m.members, [&](auto& mem) {
      io.string(mem.member_id);
      io.nstring(mem.group_instance_id);
      if (v >= 5) io.nstring(mem.reason);
      io.tags();
    });
  }
  io.tags();
}

template <class IO, MessageOf<LeaveGroupResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 1) io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  if (v >= 3) {
    io.array(m.members, [&](auto& mem) {
      io.string(mem.member_id);
      io.nstring(mem.group_instance_id);
      io.error(mem.error_code);
      io.tags();
    });
  }
  io.tags();
}

// ---- OffsetCommit ---------------------------------------------------------------

template <class IO, MessageOf<OffsetCommitRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  io.string(m.group_id);
  if (v >= 1) {
    io.i32(m.generation_id);
    io.string(m.member_id);
  }
  if (v >= 7) io.nstring(m.group_instance_id);
  if (v >= 2 && v <= 4) io.i64(m.retention_time_ms);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.i64(p.committed_offset);
      if (v >= 6) io.i32(p.committed_leader_epoch);
      if (v == 1) io.i64(p.commit_timestamp);
      io.nstring(p.committed_metadata);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<OffsetCommitResponse> M>
void serde(IO& io, M& m) {
  if (io.version() >= 3) io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.error(p.error_code);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

// ---- OffsetFetch ----------------------------------------------------------------

template <class IO, class T>
void serde_offset_fetch_topic(IO& io, T& t) {
  io.string(t.name);
  serde_i32_array(io, t.partition_indexes);
  io.tags();
}

template <class IO, MessageOf<OffsetFetchRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v <= 7) {
    io.string(m.group_id);
    io.narray_if(v >= 2, m.topics, [&](auto& t) { serde_offset_fetch_topic(io, t); });
  } else {
    io.array(m.groups, [&](auto& g) {
      io.string(g.group_id);
      if (v >= 9) {
        io.nstring(g.member_id);
        io.i32(g.member_epoch);
      }
      io.narray(g.topics, [&](auto& t) { serde_offset_fetch_topic(io, t); });
      io.tags();
    });
  }
  if (v >= 7) io.boolean(m.require_stable);
  io.tags();
}

template <class IO, class T>
void serde_offset_fetch_response_topic(IO& io, T& t) {
  const int16_t v = io.version();
  io.string(t.name);
  io.array(t.partitions, [&](auto& p) {
    io.i32(p.partition_index);
    io.i64(p.committed_offset);
    if (v >= 5) io.i32(p.committed_leader_epoch);
    io.nstring(p.metadata);
    io.error(p.error_code);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<OffsetFetchResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 3) io.i32(m.throttle_time_ms);
  if (v <= 7) {
    io.array(m.topics, [&](auto& t) { serde_offset_fetch_response_topic(io, t); });
    if (v >= 2) io.error(m.error_code);
  } else {
    io.array(m.groups, [&](auto& g) {
      io.string(g.group_id);
      io.array(g.topics, [&](auto& t) { serde_offset_fetch_response_topic(io, t); });
      io.error(g.error_code);
      io.tags();
    });
  }
  io.tags();
}

// ---- ListGroups / DescribeGroups / DeleteGroups / OffsetDelete --------------------

template <class IO, MessageOf<ListGroupsRequest> M>
void serde(IO& io, M& m) {
  if (io.version() >= 4) serde_string_array(io, m.states_filter);
  io.tags();
}

template <class IO, MessageOf<ListGroupsResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 1) io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.array(m.groups, [&](auto& g) {
    io.string(g.group_id);
    io.string(g.protocol_type);
    if (v >= 4) io.string(g.group_state);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<DescribeGroupsRequest> M>
void serde(IO& io, M& m) {
  serde_string_array(io, m.groups);
  if (io.version() >= 3) io.boolean(m.include_authorized_operations);
  io.tags();
}

template <class IO, class G>
void serde_described_group(IO& io, G& g) {
  const int16_t v = io.version();
  io.error(g.error_code);
  io.string(g.group_id);
  io.string(g.group_state);
  io.string(g.protocol_type);
  io.string(g.protocol_data);
  io.array(g.members, [&](auto& mem) {
    io.string(mem.member_id);
    if (v >= 4) io.nstring(mem.group_instance_id);
    io.string(mem.client_id);
    io.string(mem.client_host);
    io.bytes(mem.member_metadata);
    io.bytes(mem.member_assignment);
    io.tags();
  });
  if (v >= 3) io.i32(g.authorized_operations);
  io.tags();
}

template <class IO, MessageOf<DescribeGroupsResponse> M>
void serde(IO& io, M& m) {
  if (io.version() >= 1) io.i32(m.throttle_time_ms);
  io.array(m.groups, [&](auto& g) { serde_described_group(io, g); });
  io.tags();
}

template <class IO, MessageOf<DeleteGroupsRequest> M>
void serde(IO& io, M& m) {
  serde_string_array(io, m.groups_names);
  io.tags();
}

template <class IO, MessageOf<DeleteGroupsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.results, [&](auto& r) {
    io.string(r.group_id);
    io.error(r.error_code);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<OffsetDeleteRequest> M>
void serde(IO& io, M& m) {
  io.string(m.group_id);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) { io.i32(p); });
  });
}

template <class IO, MessageOf<OffsetDeleteResponse> M>
void serde(IO& io, M& m) {
  io.error(m.error_code);
  io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.error(p.error_code);
    });
  });
}

}  // namespace

DMQ_KAFKA_DEFINE_CODEC(FindCoordinatorRequest)
DMQ_KAFKA_DEFINE_CODEC(FindCoordinatorResponse)
DMQ_KAFKA_DEFINE_CODEC(JoinGroupRequest)
DMQ_KAFKA_DEFINE_CODEC(JoinGroupResponse)
DMQ_KAFKA_DEFINE_CODEC(SyncGroupRequest)
DMQ_KAFKA_DEFINE_CODEC(SyncGroupResponse)
DMQ_KAFKA_DEFINE_CODEC(HeartbeatRequest)
DMQ_KAFKA_DEFINE_CODEC(HeartbeatResponse)
DMQ_KAFKA_DEFINE_CODEC(LeaveGroupRequest)
DMQ_KAFKA_DEFINE_CODEC(LeaveGroupResponse)
DMQ_KAFKA_DEFINE_CODEC(OffsetCommitRequest)
DMQ_KAFKA_DEFINE_CODEC(OffsetCommitResponse)
DMQ_KAFKA_DEFINE_CODEC(OffsetFetchRequest)
DMQ_KAFKA_DEFINE_CODEC(OffsetFetchResponse)
DMQ_KAFKA_DEFINE_CODEC(ListGroupsRequest)
DMQ_KAFKA_DEFINE_CODEC(ListGroupsResponse)
DMQ_KAFKA_DEFINE_CODEC(DescribeGroupsRequest)
DMQ_KAFKA_DEFINE_CODEC(DescribeGroupsResponse)
DMQ_KAFKA_DEFINE_CODEC(DeleteGroupsRequest)
DMQ_KAFKA_DEFINE_CODEC(DeleteGroupsResponse)
DMQ_KAFKA_DEFINE_CODEC(OffsetDeleteRequest)
DMQ_KAFKA_DEFINE_CODEC(OffsetDeleteResponse)

FindCoordinatorResponse make_error_response(const FindCoordinatorRequest& req, int16_t version,
                                            ErrorCode error) {
  FindCoordinatorResponse r;
  r.error_code = error;
  if (version >= 4) {
    for (auto key : req.coordinator_keys) {
      auto& c = r.coordinators.emplace_back();
      c.key = std::string(key);
      c.error_code = error;
    }
  }
  return r;
}

JoinGroupResponse make_error_response(const JoinGroupRequest&, int16_t, ErrorCode error) {
  JoinGroupResponse r;
  r.error_code = error;
  r.protocol_name = std::string();  // Kafka's UNKNOWN_PROTOCOL_NAME
  return r;
}

SyncGroupResponse make_error_response(const SyncGroupRequest&, int16_t, ErrorCode error) {
  SyncGroupResponse r;
  r.error_code = error;
  return r;
}

HeartbeatResponse make_error_response(const HeartbeatRequest&, int16_t, ErrorCode error) {
  HeartbeatResponse r;
  r.error_code = error;
  return r;
}

LeaveGroupResponse make_error_response(const LeaveGroupRequest& req, int16_t, ErrorCode error) {
  LeaveGroupResponse r;
  r.error_code = error;
  for (const auto& m : req.members) {
    auto& out = r.members.emplace_back();
    out.member_id = std::string(m.member_id);
    if (m.group_instance_id) out.group_instance_id = std::string(*m.group_instance_id);
    out.error_code = error;
  }
  return r;
}

OffsetCommitResponse make_error_response(const OffsetCommitRequest& req, int16_t, ErrorCode error) {
  OffsetCommitResponse r;
  for (const auto& t : req.topics) {
    auto& out = r.topics.emplace_back();
    out.name = std::string(t.name);
    for (const auto& p : t.partitions) out.partitions.push_back({p.partition_index, error});
  }
  return r;
}

namespace {

template <class Topics>
std::vector<OffsetFetchResponse::Topic> offset_fetch_error_topics(const Topics& topics,
                                                                  ErrorCode error) {
  std::vector<OffsetFetchResponse::Topic> out;
  if (!topics) return out;
  for (const auto& t : *topics) {
    auto& ot = out.emplace_back();
    ot.name = std::string(t.name);
    for (int32_t p : t.partition_indexes) {
      auto& op = ot.partitions.emplace_back();
      op.partition_index = p;
      op.error_code = error;
    }
  }
  return out;
}

}  // namespace

OffsetFetchResponse make_error_response(const OffsetFetchRequest& req, int16_t version,
                                        ErrorCode error) {
  OffsetFetchResponse r;
  if (version >= 8) {
    for (const auto& g : req.groups) {
      auto& og = r.groups.emplace_back();
      og.group_id = std::string(g.group_id);
      og.error_code = error;
    }
    return r;
  }
  r.error_code = error;
  // v1 has no top-level error: it travels per partition.
  if (version < 2) r.topics = offset_fetch_error_topics(req.topics, error);
  return r;
}

ListGroupsResponse make_error_response(const ListGroupsRequest&, int16_t, ErrorCode error) {
  ListGroupsResponse r;
  r.error_code = error;
  return r;
}

DescribeGroupsResponse make_error_response(const DescribeGroupsRequest& req, int16_t,
                                           ErrorCode error) {
  DescribeGroupsResponse r;
  for (auto g : req.groups) {
    auto& out = r.groups.emplace_back();
    out.group_id = std::string(g);
    out.error_code = error;
  }
  return r;
}

DeleteGroupsResponse make_error_response(const DeleteGroupsRequest& req, int16_t, ErrorCode error) {
  DeleteGroupsResponse r;
  for (auto g : req.groups_names) r.results.push_back({std::string(g), error});
  return r;
}

OffsetDeleteResponse make_error_response(const OffsetDeleteRequest&, int16_t, ErrorCode error) {
  OffsetDeleteResponse r;
  r.error_code = error;
  return r;
}

}  // namespace dmq::kafka
