#include "kafka/protocol/msg_core.h"

namespace dmq::kafka {
namespace {

// ---- ApiVersions -------------------------------------------------------------

template <class IO, MessageOf<ApiVersionsRequest> M>
void serde(IO& io, M& m) {
  if (io.version() >= 3) {
    io.string(m.client_software_name);
    io.string(m.client_software_version);
  }
  io.tags();
}

template <class IO, MessageOf<ApiVersionsResponse> M>
void serde(IO& io, M& m) {
  io.error(m.error_code);
  io.array(m.api_keys, [&](auto& a) {
    io.i16(a.api_key);
    io.i16(a.min_version);
    io.i16(a.max_version);
    io.tags();
  });
  if (io.version() >= 1) io.i32(m.throttle_time_ms);
  // KIP-584 feature tags; DMQ writes none by default but decodes them.
  io.tags([&](auto& t) {
    t.field(0, !m.supported_features.empty(), [&](auto& sub) {
      sub.array(m.supported_features, [&](auto& f) {
        sub.string(f.name);
        sub.i16(f.min_version);
        sub.i16(f.max_version);
        sub.tags();
      });
    });
    t.field(1, m.finalized_features_epoch != -1,
            [&](auto& sub) { sub.i64(m.finalized_features_epoch); });
    t.field(2, !m.finalized_features.empty(), [&](auto& sub) {
      sub.array(m.finalized_features, [&](auto& f) {
        sub.string(f.name);
        sub.i16(f.max_version_level);
        sub.i16(f.min_version_level);
        sub.tags();
      });
    });
    t.field(3, m.zk_migration_ready, [&](auto& sub) { sub.boolean(m.zk_migration_ready); });
  });
}

// ---- Metadata ------------------------------------------------------------------

template <class IO, MessageOf<MetadataRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  io.narray_if(v >= 1, m.topics, [&](auto& t) {
    if (v >= 10) io.uuid(t.topic_id);
    io.nstring_if(v >= 10, t.name);
    io.tags();
  });
  if (v >= 4) io.boolean(m.allow_auto_topic_creation);
  if (v >= 8 && v <= 10) io.boolean(m.include_cluster_authorized_operations);
  if (v >= 8) io.boolean(m.include_topic_authorized_operations);
  io.tags();
}

template <class IO, class P>
void serde_metadata_partition(IO& io, P& p) {
  const int16_t v = io.version();
  io.error(p.error_code);
  io.i32(p.partition_index);
  io.i32(p.leader_id);
  if (v >= 7) io.i32(p.leader_epoch);
  serde_i32_array(io, p.replica_nodes);
  serde_i32_array(io, p.isr_nodes);
  if (v >= 5) serde_i32_array(io, p.offline_replicas);
  io.tags();
}

template <class IO, MessageOf<MetadataResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 3) io.i32(m.throttle_time_ms);
  io.array(m.brokers, [&](auto& b) {
    io.i32(b.node_id);
    io.string(b.host);
    io.i32(b.port);
    if (v >= 1) io.nstring(b.rack);
    io.tags();
  });
  if (v >= 2) io.nstring(m.cluster_id);
  if (v >= 1) io.i32(m.controller_id);
  io.array(m.topics, [&](auto& t) {
    io.error(t.error_code);
    io.nstring_if(v >= 12, t.name);
    if (v >= 10) io.uuid(t.topic_id);
    if (v >= 1) io.boolean(t.is_internal);
    io.array(t.partitions, [&](auto& p) { serde_metadata_partition(io, p); });
    if (v >= 8) io.i32(t.topic_authorized_operations);
    io.tags();
  });
  if (v >= 8 && v <= 10) io.i32(m.cluster_authorized_operations);
  io.tags();
}

// ---- Produce -------------------------------------------------------------------

template <class IO, MessageOf<ProduceRequest> M>
void serde(IO& io, M& m) {
  if (io.version() >= 3) io.nstring(m.transactional_id);
  io.i16(m.acks);
  io.i32(m.timeout_ms);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.index);
      io.records(p.records);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

template <class IO, class P>
void serde_produce_partition(IO& io, P& p) {
  const int16_t v = io.version();
  io.i32(p.index);
  io.error(p.error_code);
  io.i64(p.base_offset);
  if (v >= 2) io.i64(p.log_append_time_ms);
  if (v >= 5) io.i64(p.log_start_offset);
  if (v >= 8) {
    io.array(p.record_errors, [&](auto& e) {
      io.i32(e.batch_index);
      io.nstring(e.batch_index_error_message);
      io.tags();
    });
    io.nstring(p.error_message);
  }
  io.tags();
}

template <class IO, MessageOf<ProduceResponse> M>
void serde(IO& io, M& m) {
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) { serde_produce_partition(io, p); });
    io.tags();
  });
  if (io.version() >= 1) io.i32(m.throttle_time_ms);
  io.tags();
}

// ---- Fetch ---------------------------------------------------------------------

// Fetch v13+ names topics by id (KIP-516).
template <class IO, class S, class U>
void serde_topic_name_or_id(IO& io, S& name, U& id) {
  if (io.version() >= 13) {
    io.uuid(id);
  } else {
    io.string(name);
  }
}

template <class IO, class P>
void serde_fetch_request_partition(IO& io, P& p) {
  const int16_t v = io.version();
  io.i32(p.partition);
  if (v >= 9) io.i32(p.current_leader_epoch);
  io.i64(p.fetch_offset);
  if (v >= 12) io.i32(p.last_fetched_epoch);
  if (v >= 5) io.i64(p.log_start_offset);
  io.i32(p.partition_max_bytes);
  io.tags();
}

template <class IO, MessageOf<FetchRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v <= 14) io.i32(m.replica_id);
  io.i32(m.max_wait_ms);
  io.i32(m.min_bytes);
  if (v >= 3) io.i32(m.max_bytes);
  if (v >= 4) io.i8(m.isolation_level);
  if (v >= 7) {
    io.i32(m.session_id);
    io.i32(m.session_epoch);
  }
  io.array(m.topics, [&](auto& t) {
    serde_topic_name_or_id(io, t.topic, t.topic_id);
    io.array(t.partitions, [&](auto& p) { serde_fetch_request_partition(io, p); });
    io.tags();
  });
  if (v >= 7) {
    io.array(m.forgotten_topics_data, [&](auto& f) {
      serde_topic_name_or_id(io, f.topic, f.topic_id);
      serde_i32_array(io, f.partitions);
      io.tags();
    });
  }
  if (v >= 11) io.string(m.rack_id);
  io.tags([&](auto& t) {
    t.field(0, m.cluster_id.has_value(), [&](auto& sub) { sub.nstring(m.cluster_id); });
    if (v >= 15) {
      t.field(1, m.replica_id != -1 || m.replica_epoch != -1, [&](auto& sub) {
        sub.i32(m.replica_id);
        sub.i64(m.replica_epoch);
        sub.tags();
      });
    }
  });
}

template <class IO, class P>
void serde_fetch_partition_tags(IO& io, P& p) {
  io.tags([&](auto& t) {
    t.field(0, !p.diverging_epoch.is_default(), [&](auto& sub) {
      sub.i32(p.diverging_epoch.epoch);
      sub.i64(p.diverging_epoch.end_offset);
      sub.tags();
    });
    t.field(1, !p.current_leader.is_default(), [&](auto& sub) {
      sub.i32(p.current_leader.leader_id);
      sub.i32(p.current_leader.leader_epoch);
      sub.tags();
    });
    t.field(2, !p.snapshot_id.is_default(), [&](auto& sub) {
      sub.i64(p.snapshot_id.end_offset);
      sub.i32(p.snapshot_id.epoch);
      sub.tags();
    });
  });
}

template <class IO, class P>
void serde_fetch_response_partition(IO& io, P& p) {
  const int16_t v = io.version();
  io.i32(p.partition_index);
  io.error(p.error_code);
  io.i64(p.high_watermark);
  if (v >= 4) io.i64(p.last_stable_offset);
  if (v >= 5) io.i64(p.log_start_offset);
  if (v >= 4) {
    io.narray(p.aborted_transactions, [&](auto& a) {
      io.i64(a.producer_id);
      io.i64(a.first_offset);
      io.tags();
    });
  }
  if (v >= 11) io.i32(p.preferred_read_replica);
  io.records(p.records);
  serde_fetch_partition_tags(io, p);
}

template <class IO, MessageOf<FetchResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  if (v >= 1) io.i32(m.throttle_time_ms);
  if (v >= 7) {
    io.error(m.error_code);
    io.i32(m.session_id);
  }
  io.array(m.responses, [&](auto& t) {
    serde_topic_name_or_id(io, t.topic, t.topic_id);
    io.array(t.partitions, [&](auto& p) { serde_fetch_response_partition(io, p); });
    io.tags();
  });
  io.tags();
}

}  // namespace

DMQ_KAFKA_DEFINE_CODEC(ApiVersionsRequest)
DMQ_KAFKA_DEFINE_CODEC(ApiVersionsResponse)
DMQ_KAFKA_DEFINE_CODEC(MetadataRequest)
DMQ_KAFKA_DEFINE_CODEC(MetadataResponse)
DMQ_KAFKA_DEFINE_CODEC(ProduceRequest)
DMQ_KAFKA_DEFINE_CODEC(ProduceResponse)
DMQ_KAFKA_DEFINE_CODEC(FetchRequest)
DMQ_KAFKA_DEFINE_CODEC(FetchResponse)

ApiVersionsResponse make_api_versions_response() {
  ApiVersionsResponse r;
  for (const ApiInfo& api : supported_apis()) {
    r.api_keys.push_back({static_cast<int16_t>(api.key), api.min_version, api.max_version});
  }
  return r;
}

bool valid_client_software_field(std::string_view s) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (s.empty() || !alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

ApiVersionsResponse make_error_response(const ApiVersionsRequest&, int16_t, ErrorCode error) {
  ApiVersionsResponse r;
  r.error_code = error;
  // KIP-511 / ApiVersionsRequest.getErrorResponse: on UNSUPPORTED_VERSION the
  // answer still names ApiVersions' own range so the client can retry with a
  // version both sides know (librdkafka looks for exactly this entry).
  if (error == ErrorCode::kUnsupportedVersion) {
    const ApiInfo* api = find_api(ApiKey::kApiVersions);
    r.api_keys.push_back({static_cast<int16_t>(api->key), api->min_version, api->max_version});
  }
  return r;
}

MetadataResponse make_error_response(const MetadataRequest& req, int16_t, ErrorCode error) {
  MetadataResponse r;
  if (!req.topics) return r;
  for (const auto& t : *req.topics) {
    MetadataResponse::Topic out;
    out.error_code = error;
    if (t.name) out.name = std::string(*t.name);
    out.topic_id = t.topic_id;
    r.topics.push_back(std::move(out));
  }
  return r;
}

ProduceResponse make_error_response(const ProduceRequest& req, int16_t, ErrorCode error) {
  ProduceResponse r;
  r.topics.reserve(req.topics.size());
  for (const auto& t : req.topics) {
    auto& out = r.topics.emplace_back();
    out.name = std::string(t.name);
    for (const auto& p : t.partitions) {
      auto& op = out.partitions.emplace_back();
      op.index = p.index;
      op.error_code = error;
    }
  }
  return r;
}

FetchResponse make_error_response(const FetchRequest& req, int16_t, ErrorCode error) {
  FetchResponse r;
  r.error_code = error;
  for (const auto& t : req.topics) {
    auto& out = r.responses.emplace_back();
    out.topic = std::string(t.topic);
    for (const auto& p : t.partitions) {
      auto& op = out.partitions.emplace_back();
      op.partition_index = p.partition;
      op.error_code = error;
    }
  }
  return r;
}

}  // namespace dmq::kafka
