#include "kafka/protocol/msg_txn.h"

#include "kafka/protocol/serde.h"

namespace dmq::kafka {
namespace {

template <class IO, class T>
void serde_txn_topics(IO& io, T& topics) {
  io.array(topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) { io.i32(p); });
    io.tags();
  });
}

template <class IO, class T>
void serde_partition_errors(IO& io, T& topics) {
  io.array(topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.error(p.error_code);
      io.tags();
    });
    io.tags();
  });
}

// ---- AddPartitionsToTxn ----------------------------------------------------------

template <class IO, MessageOf<AddPartitionsToTxnRequest> M>
void serde(IO& io, M& m) {
  if (io.version() >= 4) {
    io.array(m.transactions, [&](auto& t) {
      io.string(t.transactional_id);
      io.i64(t.producer_id);
      io.i16(t.producer_epoch);
      io.boolean(t.verify_only);
      serde_txn_topics(io, t.topics);
      io.tags();
    });
  } else {
    io.string(m.v3_transactional_id);
    io.i64(m.v3_producer_id);
    io.i16(m.v3_producer_epoch);
    serde_txn_topics(io, m.v3_topics);
  }
  io.tags();
}

template <class IO, MessageOf<AddPartitionsToTxnResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  if (io.version() >= 4) {
    io.error(m.error_code);
    io.array(m.transactions, [&](auto& t) {
      io.string(t.transactional_id);
      serde_partition_errors(io, t.topics);
      io.tags();
    });
  } else {
    serde_partition_errors(io, m.v3_topics);
  }
  io.tags();
}

// ---- AddOffsetsToTxn / EndTxn -----------------------------------------------------

template <class IO, MessageOf<AddOffsetsToTxnRequest> M>
void serde(IO& io, M& m) {
  io.string(m.transactional_id);
  io.i64(m.producer_id);
  io.i16(m.producer_epoch);
  io.string(m.group_id);
  io.tags();
}

template <class IO, class M>
requires(std::is_same_v<std::remove_const_t<M>, AddOffsetsToTxnResponse> ||
         std::is_same_v<std::remove_const_t<M>, EndTxnResponse>) void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.tags();
}

template <class IO, MessageOf<EndTxnRequest> M>
void serde(IO& io, M& m) {
  io.string(m.transactional_id);
  io.i64(m.producer_id);
  io.i16(m.producer_epoch);
  io.boolean(m.committed);
  io.tags();
}

// ---- WriteTxnMarkers --------------------------------------------------------------

template <class IO, MessageOf<WriteTxnMarkersRequest> M>
void serde(IO& io, M& m) {
  io.array(m.markers, [&](auto& mk) {
    io.i64(mk.producer_id);
    io.i16(mk.producer_epoch);
    io.boolean(mk.commit);
    serde_txn_topics(io, mk.topics);
    io.i32(mk.coordinator_epoch);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<WriteTxnMarkersResponse> M>
void serde(IO& io, M& m) {
  io.array(m.markers, [&](auto& mk) {
    io.i64(mk.producer_id);
    serde_partition_errors(io, mk.topics);
    io.tags();
  });
  io.tags();
}

// ---- TxnOffsetCommit --------------------------------------------------------------

template <class IO, MessageOf<TxnOffsetCommitRequest> M>
void serde(IO& io, M& m) {
  const int16_t v = io.version();
  io.string(m.transactional_id);
  io.string(m.group_id);
  io.i64(m.producer_id);
  io.i16(m.producer_epoch);
  if (v >= 3) {
    io.i32(m.generation_id);
    io.string(m.member_id);
    io.nstring(m.group_instance_id);
  }
  io.array(m.topics, [&](auto& t) {
    io.string(t.name);
    io.array(t.partitions, [&](auto& p) {
      io.i32(p.partition_index);
      io.i64(p.committed_offset);
      if (v >= 2) io.i32(p.committed_leader_epoch);
      io.nstring(p.committed_metadata);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<TxnOffsetCommitResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  serde_partition_errors(io, m.topics);
  io.tags();
}

// ---- DescribeTransactions / ListTransactions -----------------------------------------

template <class IO, MessageOf<DescribeTransactionsRequest> M>
void serde(IO& io, M& m) {
  serde_string_array(io, m.transactional_ids);
  io.tags();
}

template <class IO, MessageOf<DescribeTransactionsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.transaction_states, [&](auto& s) {
    io.error(s.error_code);
    io.string(s.transactional_id);
    io.string(s.transaction_state);
    io.i32(s.transaction_timeout_ms);
    io.i64(s.transaction_start_time_ms);
    io.i64(s.producer_id);
    io.i16(s.producer_epoch);
    io.array(s.topics, [&](auto& t) {
      io.string(t.topic);
      io.array(t.partitions, [&](auto& p) { io.i32(p); });
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<ListTransactionsRequest> M>
void serde(IO& io, M& m) {
  serde_string_array(io, m.state_filters);
  io.array(m.producer_id_filters, [&](auto& p) { io.i64(p); });
  io.tags();
}

template <class IO, MessageOf<ListTransactionsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  serde_string_array(io, m.unknown_state_filters);
  io.array(m.transaction_states, [&](auto& s) {
    io.string(s.transactional_id);
    io.i64(s.producer_id);
    io.string(s.transaction_state);
    io.tags();
  });
  io.tags();
}

template <class Out, class In>
std::vector<Out> error_topics(const std::vector<In>& topics, ErrorCode error) {
  std::vector<Out> out;
  for (const auto& t : topics) {
    auto& o = out.emplace_back();
    o.name = std::string(t.name);
    for (int32_t p : t.partitions) o.partitions.push_back({p, error});
  }
  return out;
}

}  // namespace

DMQ_KAFKA_DEFINE_CODEC(AddPartitionsToTxnRequest)
DMQ_KAFKA_DEFINE_CODEC(AddPartitionsToTxnResponse)
DMQ_KAFKA_DEFINE_CODEC(AddOffsetsToTxnRequest)
DMQ_KAFKA_DEFINE_CODEC(AddOffsetsToTxnResponse)
DMQ_KAFKA_DEFINE_CODEC(EndTxnRequest)
DMQ_KAFKA_DEFINE_CODEC(EndTxnResponse)
DMQ_KAFKA_DEFINE_CODEC(WriteTxnMarkersRequest)
DMQ_KAFKA_DEFINE_CODEC(WriteTxnMarkersResponse)
DMQ_KAFKA_DEFINE_CODEC(TxnOffsetCommitRequest)
DMQ_KAFKA_DEFINE_CODEC(TxnOffsetCommitResponse)
DMQ_KAFKA_DEFINE_CODEC(DescribeTransactionsRequest)
DMQ_KAFKA_DEFINE_CODEC(DescribeTransactionsResponse)
DMQ_KAFKA_DEFINE_CODEC(ListTransactionsRequest)
DMQ_KAFKA_DEFINE_CODEC(ListTransactionsResponse)

AddPartitionsToTxnResponse make_error_response(const AddPartitionsToTxnRequest& req,
                                               int16_t version, ErrorCode error) {
  AddPartitionsToTxnResponse r;
  if (version < 4) {
    r.v3_topics = error_topics<AddPartitionsToTxnResponse::TopicResult>(req.v3_topics, error);
    return r;
  }
  r.error_code = error;
  for (const auto& t : req.transactions) {
    auto& o = r.transactions.emplace_back();
    o.transactional_id = std::string(t.transactional_id);
    o.topics = error_topics<AddPartitionsToTxnResponse::TopicResult>(t.topics, error);
  }
  return r;
}

AddOffsetsToTxnResponse make_error_response(const AddOffsetsToTxnRequest&, int16_t,
                                            ErrorCode error) {
  AddOffsetsToTxnResponse r;
  r.error_code = error;
  return r;
}

EndTxnResponse make_error_response(const EndTxnRequest&, int16_t, ErrorCode error) {
  EndTxnResponse r;
  r.error_code = error;
  return r;
}

WriteTxnMarkersResponse make_error_response(const WriteTxnMarkersRequest& req, int16_t,
                                            ErrorCode error) {
  WriteTxnMarkersResponse r;
  for (const auto& m : req.markers) {
    auto& o = r.markers.emplace_back();
    o.producer_id = m.producer_id;
    o.topics = error_topics<WriteTxnMarkersResponse::Topic>(m.topics, error);
  }
  return r;
}

TxnOffsetCommitResponse make_error_response(const TxnOffsetCommitRequest& req, int16_t,
                                            ErrorCode error) {
  TxnOffsetCommitResponse r;
  for (const auto& t : req.topics) {
    auto& o = r.topics.emplace_back();
    o.name = std::string(t.name);
    for (const auto& p : t.partitions) o.partitions.push_back({p.partition_index, error});
  }
  return r;
}

DescribeTransactionsResponse make_error_response(const DescribeTransactionsRequest& req, int16_t,
                                                 ErrorCode error) {
  DescribeTransactionsResponse r;
  for (auto id : req.transactional_ids) {
    auto& s = r.transaction_states.emplace_back();
    s.error_code = error;
    s.transactional_id = std::string(id);
  }
  return r;
}

ListTransactionsResponse make_error_response(const ListTransactionsRequest&, int16_t,
                                             ErrorCode error) {
  ListTransactionsResponse r;
  r.error_code = error;
  return r;
}

}  // namespace dmq::kafka
