#include "kafka/protocol/msg_inspect.h"

#include "kafka/protocol/serde.h"

namespace dmq::kafka {
namespace {

// ---- DescribeLogDirs ------------------------------------------------------------

template <class IO, MessageOf<DescribeLogDirsRequest> M>
void serde(IO& io, M& m) {
  io.narray(m.topics, [&](auto& t) {
    io.string(t.topic);
    serde_i32_array(io, t.partitions);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<DescribeLogDirsResponse> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  io.i32(m.throttle_time_ms);
  if (v >= 3) io.error(m.error_code);
  io.array(m.results, [&](auto& r) {
    io.error(r.error_code);
    io.string(r.log_dir);
    io.array(r.topics, [&](auto& t) {
      io.string(t.name);
      io.array(t.partitions, [&](auto& p) {
        io.i32(p.partition_index);
        io.i64(p.partition_size);
        io.i64(p.offset_lag);
        io.boolean(p.is_future_key);
        io.tags();
      });
      io.tags();
    });
    if (v >= 4) {
      io.i64(r.total_bytes);
      io.i64(r.usable_bytes);
    }
    io.tags();
  });
  io.tags();
}

// ---- DescribeProducers ----------------------------------------------------------

template <class IO, MessageOf<DescribeProducersRequest> M>
void serde(IO& io, M& m) {
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    serde_i32_array(io, t.partition_indexes);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<DescribeProducersResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.error(p.error_code);
      io.nstring(p.error_message);
      io.array(p.active_producers, [&](auto& s) {
        io.i64(s.producer_id);
        io.i32(s.producer_epoch);
        io.i32(s.last_sequence);
        io.i64(s.last_timestamp);
        io.i32(s.coordinator_epoch);
        io.i64(s.current_txn_start_offset);
        io.tags();
      });
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

}  // namespace

DMQ_KAFKA_DEFINE_CODEC(DescribeLogDirsRequest)
DMQ_KAFKA_DEFINE_CODEC(DescribeLogDirsResponse)
DMQ_KAFKA_DEFINE_CODEC(DescribeProducersRequest)
DMQ_KAFKA_DEFINE_CODEC(DescribeProducersResponse)

// Kafka answers a refused DescribeLogDirs (CLUSTER_AUTHORIZATION_FAILED) with
// the top-level code (v3+) and no log dirs; older versions have no place for a
// code, so they get an empty list, as Kafka's getErrorResponse gives.
DescribeLogDirsResponse make_error_response(const DescribeLogDirsRequest&, int16_t,
                                            ErrorCode error) {
  DescribeLogDirsResponse r;
  r.error_code = error;
  return r;
}

DescribeProducersResponse make_error_response(const DescribeProducersRequest& req, int16_t,
                                              ErrorCode error) {
  DescribeProducersResponse r;
  for (const auto& t : req.topics) {
    auto& out = r.topics.emplace_back();
    out.name = std::string(t.name);
    for (int32_t p : t.partition_indexes) out.partitions.push_back({p, error, std::nullopt, {}});
  }
  return r;
}

}  // namespace dmq::kafka
