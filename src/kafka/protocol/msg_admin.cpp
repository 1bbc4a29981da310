#include "kafka/protocol/msg_admin.h"

namespace dmq::kafka {
namespace {

// ---- ListOffsets ----------------------------------------------------------------

template <class IO, MessageOf<ListOffsetsRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  io.i32(m.replica_id);
  if (v >= 2) io.i8(m.isolation_level);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      if (v >= 4) io.i32(p.current_leader_epoch);
      io.i64(p.timestamp);
      if (v == 0) io.i32(p.max_num_offsets);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<ListOffsetsResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 2) io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.error(p.error_code);
      if (v == 0) {
        serde_i64_array(io, p.old_style_offsets);
      } else {
        io.i64(p.timestamp);
        io.i64(p.offset);
      }
      if (v >= 4) io.i32(p.leader_epoch);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

// ---- CreateTopics ---------------------------------------------------------------

template <class IO, MessageOf<CreateTopicsRequest> M>
void serde(IO& io, M& m) {
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.i32(t.num_partitions);
    io.i16(t.replication_factor);
    io.array(t.assignments, [&](auto& a) {
      io.i32(a.partition_index);
      serde_i32_array(io, a.broker_ids);
      io.tags();
    });
    io.array(t.configs, [&](auto& c) {
      io.string(c.name);
      io.nstring(c.value);
      io.tags();
    });
    io.tags();
  });
  io.i32(m.timeout_ms);
  if (io.version() >= 1) io.boolean(m.validate_only);
  io.tags();
}

template <class IO, class T>
void serde_created_topic(IO& io, T& t) {
  const int16_t v = io.version();
  io.string(t.name);
  if (v >= 7) io.uuid(t.topic_id);
  io.error(t.error_code);
  if (v >= 1) io.nstring(t.error_message);
  if (v >= 5) {
    io.i32(t.num_partitions);
    io.i16(t.replication_factor);
    io.narray(t.configs, [&](auto& c) {
      io.string(c.name);
      io.nstring(c.value);
      io.boolean(c.read_only);
      io.i8(c.config_source);
      io.boolean(c.is_sensitive);
      io.tags();
    });
  }
  io.tags([&](auto& tags) {
    tags.field(0, t.topic_config_error_code != 0,
               [&](auto& sub) { sub.i16(t.topic_config_error_code); });
  });
}

template <class IO, MessageOf<CreateTopicsResponse> M>
void serde(IO& io, M& m) {
  if (io.version() >= 2) io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](auto& t) { serde_created_topic(io, t); });
  io.tags();
}

// ---- DeleteTopics ---------------------------------------------------------------

template <class IO, MessageOf<DeleteTopicsRequest> M>
void serde(IO& io, M& m) {
  if (io.version() >= 6) {
    io.array(m.topics, [&](auto& t) {
      io.nstring(t.name);
      io.uuid(t.topic_id);
      io.tags();
    });
  } else {
    serde_string_array(io, m.topic_names);
  }
  io.i32(m.timeout_ms);
  io.tags();
}

template <class IO, MessageOf<DeleteTopicsResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 1) io.i32(m.throttle_time_ms);
  io.array(m.responses, [&](auto& r) {
    io.nstring_if(v >= 6, r.name);
    if (v >= 6) io.uuid(r.topic_id);
    io.error(r.error_code);
    if (v >= 5) io.nstring(r.error_message);
    io.tags();
  });
  io.tags();
}

// ---- DeleteRecords --------------------------------------------------------------

template <class IO, MessageOf<DeleteRecordsRequest> M>
void serde(IO& io, M& m) {
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.i64(p.offset);
      io.tags();
    });
    io.tags();
  });
  io.i32(m.timeout_ms);
  io.tags();
}

template <class IO, MessageOf<DeleteRecordsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.i64(p.low_watermark);
      io.error(p.error_code);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

// ---- CreatePartitions -----------------------------------------------------------

template <class IO, MessageOf<CreatePartitionsRequest> M>
void serde(IO& io, M& m) {
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.i32(t.count);
    io.narray(t.assignments, [&](auto& a) {
      serde_i32_array(io, a.broker_ids);
      io.tags();
    });
    io.tags();
  });
  io.i32(m.timeout_ms);
  io.boolean(m.validate_only);
  io.tags();
}

template <class IO, MessageOf<CreatePartitionsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.results, [&](auto& r) {
    io.string(r.name);
    io.error(r.error_code);
    io.nstring(r.error_message);
    io.tags();
  });
  io.tags();
}

// ---- DescribeConfigs ------------------------------------------------------------

template <class IO, MessageOf<DescribeConfigsRequest> M>
void serde(IO& io, M& m) {
  io.array(m.resources, [&](auto& r) {
    io.i8(r.resource_type);
    io.string(r.resource_name);
    io.narray(r.configuration_keys, [&](auto& k) { io.string(k); });
    io.tags();
  });
  if (io.version() >= 1) io.boolean(m.include_synonyms);
  if (io.version() >= 3) io.boolean(m.include_documentation);
  io.tags();
}

template <class IO, class C>
void serde_config_entry(IO& io, C& c) {
  const int16_t v = io.version();
  io.string(c.name);
  io.nstring(c.value);
  io.boolean(c.read_only);
  if (v == 0) {
    io.boolean(c.is_default);
  } else {
    io.i8(c.config_source);
  }
  io.boolean(c.is_sensitive);
  if (v >= 1) {
    io.array(c.synonyms, [&](auto& s) {
      io.string(s.name);
      io.nstring(s.value);
      io.i8(s.source);
      io.tags();
    });
  }
  if (v >= 3) {
    io.i8(c.config_type);
    io.nstring(c.documentation);
  }
  io.tags();
}

template <class IO, MessageOf<DescribeConfigsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.results, [&](auto& r) {
    io.error(r.error_code);
    io.nstring(r.error_message);
    io.i8(r.resource_type);
    io.string(r.resource_name);
    io.array(r.configs, [&](auto& c) { serde_config_entry(io, c); });
    io.tags();
  });
  io.tags();
}

// ---- DescribeCluster ------------------------------------------------------------

template <class IO, MessageOf<DescribeClusterRequest> M>
void serde(IO& io, M& m) {
  io.boolean(m.include_cluster_authorized_operations);
  if (io.version() >= 1) io.i8(m.endpoint_type);
  io.tags();
}

template <class IO, MessageOf<DescribeClusterResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.nstring(m.error_message);
  if (io.version() >= 1) io.i8(m.endpoint_type);
  io.string(m.cluster_id);
  io.i32(m.controller_id);
  io.array(m.brokers, [&](auto& b) {
    io.i32(b.broker_id);
    io.string(b.host);
    io.i32(b.port);
    io.nstring(b.rack);
    io.tags();
  });
  io.i32(m.cluster_authorized_operations);
  io.tags();
}

// ---- InitProducerId -------------------------------------------------------------

template <class IO, MessageOf<InitProducerIdRequest> M>
void serde(IO& io, M& m) {
  io.nstring(m.transactional_id);
  io.i32(m.transaction_timeout_ms);
  if (io.version() >= 3) {
    io.i64(m.producer_id);
    io.i16(m.producer_epoch);
  }
  io.tags();
}

template <class IO, MessageOf<InitProducerIdResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.i64(m.producer_id);
  io.i16(m.producer_epoch);
  io.tags();
}

// ---- OffsetForLeaderEpoch ---------------------------------------------------------

template <class IO, MessageOf<OffsetForLeaderEpochRequest> M>
void serde(IO& io, M& m) {
  if (io.version() >= 3) io.i32(m.replica_id);
  io.array(m.topics, [&](auto& t) {
    io.string(t.topic);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition);
      if (io.version() >= 2) io.i32(p.current_leader_epoch);
      io.i32(p.leader_epoch);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<OffsetForLeaderEpochResponse> M>
void serde(IO& io, M& m) {
  if (io.version() >= 2) io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](auto& t) {
    io.string(t.topic);
    io.array(t.partitions, [&](auto& p) {
      io.error(p.error_code);
      io.i32(p.partition);
      if (io.version() >= 1) io.i32(p.leader_epoch);
      io.i64(p.end_offset);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

// ---- AlterConfigs / IncrementalAlterConfigs ----------------------------------------

// The incremental form only adds an operation per config.
template <class IO, class M>
requires MessageOf<M, AlterConfigsRequest> || MessageOf<M, IncrementalAlterConfigsRequest>
void serde(IO& io, M& m) {
  constexpr bool kIncremental = MessageOf<M, IncrementalAlterConfigsRequest>;
  io.array(m.resources, [&](auto& r) {
    io.i8(r.resource_type);
    io.string(r.resource_name);
    io.array(r.configs, [&](auto& c) {
      io.string(c.name);
      if constexpr (kIncremental) io.i8(c.config_operation);
      io.nstring(c.value);
      io.tags();
    });
    io.tags();
  });
  io.boolean(m.validate_only);
  io.tags();
}

// Both responses have the same shape.
template <class IO, class M>
requires MessageOf<M, AlterConfigsResponse> || MessageOf<M, IncrementalAlterConfigsResponse>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.responses, [&](auto& r) {
    io.error(r.error_code);
    io.nstring(r.error_message);
    io.i8(r.resource_type);
    io.string(r.resource_name);
    io.tags();
  });
  io.tags();
}

}  // namespace

DMQ_KAFKA_DEFINE_CODEC(AlterConfigsRequest)
DMQ_KAFKA_DEFINE_CODEC(AlterConfigsResponse)
DMQ_KAFKA_DEFINE_CODEC(IncrementalAlterConfigsRequest)
DMQ_KAFKA_DEFINE_CODEC(IncrementalAlterConfigsResponse)
DMQ_KAFKA_DEFINE_CODEC(ListOffsetsRequest)
DMQ_KAFKA_DEFINE_CODEC(ListOffsetsResponse)
DMQ_KAFKA_DEFINE_CODEC(CreateTopicsRequest)
DMQ_KAFKA_DEFINE_CODEC(CreateTopicsResponse)
DMQ_KAFKA_DEFINE_CODEC(DeleteTopicsRequest)
DMQ_KAFKA_DEFINE_CODEC(DeleteTopicsResponse)
DMQ_KAFKA_DEFINE_CODEC(CreatePartitionsRequest)
DMQ_KAFKA_DEFINE_CODEC(CreatePartitionsResponse)
DMQ_KAFKA_DEFINE_CODEC(DeleteRecordsRequest)
DMQ_KAFKA_DEFINE_CODEC(DeleteRecordsResponse)
DMQ_KAFKA_DEFINE_CODEC(DescribeConfigsRequest)
DMQ_KAFKA_DEFINE_CODEC(DescribeConfigsResponse)
DMQ_KAFKA_DEFINE_CODEC(DescribeClusterRequest)
DMQ_KAFKA_DEFINE_CODEC(DescribeClusterResponse)
DMQ_KAFKA_DEFINE_CODEC(InitProducerIdRequest)
DMQ_KAFKA_DEFINE_CODEC(InitProducerIdResponse)
DMQ_KAFKA_DEFINE_CODEC(OffsetForLeaderEpochRequest)
DMQ_KAFKA_DEFINE_CODEC(OffsetForLeaderEpochResponse)

ListOffsetsResponse make_error_response(const ListOffsetsRequest& req, int16_t, ErrorCode error) {
  ListOffsetsResponse r;
  for (const auto& t : req.topics) {
    auto& out = r.topics.emplace_back();
    out.name = std::string(t.name);
    for (const auto& p : t.partitions) {
      auto& op = out.partitions.emplace_back();
      op.partition_index = p.partition_index;
      op.error_code = error;
    }
  }
  return r;
}

CreateTopicsResponse make_error_response(const CreateTopicsRequest& req, int16_t, ErrorCode error) {
  CreateTopicsResponse r;
  for (const auto& t : req.topics) {
    auto& out = r.topics.emplace_back();
    out.name = std::string(t.name);
    out.error_code = error;
  }
  return r;
}

DeleteTopicsResponse make_error_response(const DeleteTopicsRequest& req, int16_t version,
                                         ErrorCode error) {
  DeleteTopicsResponse r;
  if (version >= 6) {
    for (const auto& t : req.topics) {
      auto& out = r.responses.emplace_back();
      if (t.name) out.name = std::string(*t.name);
      out.topic_id = t.topic_id;
      out.error_code = error;
    }
  } else {
    for (auto name : req.topic_names) {
      auto& out = r.responses.emplace_back();
      out.name = std::string(name);
      out.error_code = error;
    }
  }
  return r;
}

CreatePartitionsResponse make_error_response(const CreatePartitionsRequest& req, int16_t,
                                             ErrorCode error) {
  CreatePartitionsResponse r;
  for (const auto& t : req.topics) {
    auto& out = r.results.emplace_back();
    out.name = std::string(t.name);
    out.error_code = error;
  }
  return r;
}

DeleteRecordsResponse make_error_response(const DeleteRecordsRequest& req, int16_t,
                                          ErrorCode error) {
  DeleteRecordsResponse r;
  for (const auto& t : req.topics) {
    auto& out = r.topics.emplace_back();
    out.name = std::string(t.name);
    for (const auto& p : t.partitions) out.partitions.push_back({p.partition_index, -1, error});
  }
  return r;
}

DescribeConfigsResponse make_error_response(const DescribeConfigsRequest& req, int16_t,
                                            ErrorCode error) {
  DescribeConfigsResponse r;
  for (const auto& res : req.resources) {
    auto& out = r.results.emplace_back();
    out.error_code = error;
    out.resource_type = res.resource_type;
    out.resource_name = std::string(res.resource_name);
  }
  return r;
}

DescribeClusterResponse make_error_response(const DescribeClusterRequest& req, int16_t,
                                            ErrorCode error) {
  DescribeClusterResponse r;
  r.error_code = error;
  r.endpoint_type = req.endpoint_type;
  return r;
}

InitProducerIdResponse make_error_response(const InitProducerIdRequest&, int16_t, ErrorCode error) {
  InitProducerIdResponse r;
  r.error_code = error;
  return r;
}

namespace {

template <class Resp, class Req>
Resp alter_configs_error(const Req& req, ErrorCode error) {
  Resp r;
  for (const auto& res : req.resources) {
    auto& out = r.responses.emplace_back();
    out.error_code = error;
    out.resource_type = res.resource_type;
    out.resource_name = std::string(res.resource_name);
  }
  return r;
}

}  // namespace

AlterConfigsResponse make_error_response(const AlterConfigsRequest& req, int16_t, ErrorCode error) {
  return alter_configs_error<AlterConfigsResponse>(req, error);
}

IncrementalAlterConfigsResponse make_error_response(const IncrementalAlterConfigsRequest& req,
                                                    int16_t, ErrorCode error) {
  return alter_configs_error<IncrementalAlterConfigsResponse>(req, error);
}

OffsetForLeaderEpochResponse make_error_response(const OffsetForLeaderEpochRequest& req, int16_t,
                                                 ErrorCode error) {
  OffsetForLeaderEpochResponse r;
  for (const auto& t : req.topics) {
    auto& out = r.topics.emplace_back();
    out.topic = std::string(t.topic);
    for (const auto& p : t.partitions) {
      auto& op = out.partitions.emplace_back();
      op.partition = p.partition;
      op.error_code = error;
    }
  }
  return r;
}

}  // namespace dmq::kafka
