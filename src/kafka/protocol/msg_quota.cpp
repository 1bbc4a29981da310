#include "kafka/protocol/msg_quota.h"

namespace dmq::kafka {
namespace {

template <class IO, class E>
void entity_parts(IO& io, E& entity) {
  io.array(entity, [&](auto& part) {
    io.string(part.entity_type);
    io.nstring(part.entity_name);
    io.tags();
  });
}

}  // namespace

// ---- DescribeClientQuotas -----------------------------------------------------------

template <class IO, MessageOf<DescribeClientQuotasRequest> M>
void serde(IO& io, M& m) {
  io.array(m.components, [&](auto& c) {
    io.string(c.entity_type);
    io.i8(c.match_type);
    io.nstring(c.match);
    io.tags();
  });
  io.boolean(m.strict);
  io.tags();
}

template <class IO, MessageOf<DescribeClientQuotasResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.nstring(m.error_message);
  io.narray(m.entries, [&](auto& e) {
    entity_parts(io, e.entity);
    io.array(e.values, [&](auto& v) {
      io.string(v.key);
      io.f64(v.value);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

// ---- AlterClientQuotas --------------------------------------------------------------

template <class IO, MessageOf<AlterClientQuotasRequest> M>
void serde(IO& io, M& m) {
  io.array(m.entries, [&](auto& e) {
    entity_parts(io, e.entity);
    io.array(e.ops, [&](auto& op) {
      io.string(op.key);
      io.f64(op.value);
      io.boolean(op.remove);
      io.tags();
    });
    io.tags();
  });
  io.boolean(m.validate_only);
  io.tags();
}

template <class IO, MessageOf<AlterClientQuotasResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.entries, [&](auto& e) {
    io.error(e.error_code);
    io.nstring(e.error_message);
    entity_parts(io, e.entity);
    io.tags();
  });
  io.tags();
}

DMQ_KAFKA_DEFINE_CODEC(DescribeClientQuotasRequest)
DMQ_KAFKA_DEFINE_CODEC(DescribeClientQuotasResponse)
DMQ_KAFKA_DEFINE_CODEC(AlterClientQuotasRequest)
DMQ_KAFKA_DEFINE_CODEC(AlterClientQuotasResponse)

DescribeClientQuotasResponse make_error_response(const DescribeClientQuotasRequest&, int16_t,
                                                 ErrorCode error) {
  DescribeClientQuotasResponse r;
  r.error_code = error;
  return r;
}

AlterClientQuotasResponse make_error_response(const AlterClientQuotasRequest& req, int16_t,
                                              ErrorCode error) {
  AlterClientQuotasResponse r;
  for (const auto& e : req.entries) {
    AlterClientQuotasResponse::Entry out;
    out.error_code = error;
    for (const auto& part : e.entity) {
      out.entity.push_back(
          {std::string(part.entity_type),
           part.entity_name ? std::optional<std::string>(*part.entity_name) : std::nullopt});
    }
    r.entries.push_back(std::move(out));
  }
  return r;
}

}  // namespace dmq::kafka
