#include "kafka/protocol/msg_acl.h"

namespace dmq::kafka {
namespace {

// v0 has no pattern type on the wire; it means LITERAL.
template <class IO, class T>
void pattern_type(IO& io, T& v) {
  if (io.version() >= 1) io.i8(v);
}

// A binding's fields, as CreateAcls creations and DeleteAcls matches carry them.
template <class IO, class B>
void binding_fields(IO& io, B& b) {
  io.i8(b.resource_type);
  io.string(b.resource_name);
  pattern_type(io, b.pattern_type);
  io.string(b.principal);
  io.string(b.host);
  io.i8(b.operation);
  io.i8(b.permission_type);
}

template <class IO, class F>
void filter_fields(IO& io, F& f) {
  io.i8(f.resource_type);
  io.nstring(f.resource_name);
  pattern_type(io, f.pattern_type);
  io.nstring(f.principal);
  io.nstring(f.host);
  io.i8(f.operation);
  io.i8(f.permission_type);
}

}  // namespace

// ---- DescribeAcls ----------------------------------------------------------------

template <class IO, MessageOf<DescribeAclsRequest> M>
void serde(IO& io, M& m) {
  filter_fields(io, m.filter);
  io.tags();
}

template <class IO, MessageOf<DescribeAclsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.nstring(m.error_message);
  io.array(m.resources, [&](auto& r) {
    io.i8(r.resource_type);
    io.string(r.resource_name);
    pattern_type(io, r.pattern_type);
    io.array(r.acls, [&](auto& a) {
      io.string(a.principal);
      io.string(a.host);
      io.i8(a.operation);
      io.i8(a.permission_type);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

// ---- CreateAcls ------------------------------------------------------------------

template <class IO, MessageOf<CreateAclsRequest> M>
void serde(IO& io, M& m) {
  io.array(m.creations, [&](auto& c) {
    binding_fields(io, c);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<CreateAclsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.results, [&](auto& r) {
    io.error(r.error_code);
    io.nstring(r.error_message);
    io.tags();
  });
  io.tags();
}

// ---- DeleteAcls ------------------------------------------------------------------

template <class IO, MessageOf<DeleteAclsRequest> M>
void serde(IO& io, M& m) {
  io.array(m.filters, [&](auto& f) {
    filter_fields(io, f);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<DeleteAclsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.filter_results, [&](auto& r) {
    io.error(r.error_code);
    io.nstring(r.error_message);
    io.array(r.matching_acls, [&](auto& a) {
      io.error(a.error_code);
      io.nstring(a.error_message);
      binding_fields(io, a);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

DMQ_KAFKA_DEFINE_CODEC(DescribeAclsRequest)
DMQ_KAFKA_DEFINE_CODEC(DescribeAclsResponse)
DMQ_KAFKA_DEFINE_CODEC(CreateAclsRequest)
DMQ_KAFKA_DEFINE_CODEC(CreateAclsResponse)
DMQ_KAFKA_DEFINE_CODEC(DeleteAclsRequest)
DMQ_KAFKA_DEFINE_CODEC(DeleteAclsResponse)

DescribeAclsResponse make_error_response(const DescribeAclsRequest&, int16_t, ErrorCode error) {
  DescribeAclsResponse r;
  r.error_code = error;
  return r;
}

CreateAclsResponse make_error_response(const CreateAclsRequest& req, int16_t, ErrorCode error) {
  CreateAclsResponse r;
  r.results.assign(req.creations.size(), CreateAclsResponse::Result{error, std::nullopt});
  return r;
}

DeleteAclsResponse make_error_response(const DeleteAclsRequest& req, int16_t, ErrorCode error) {
  DeleteAclsResponse r;
  r.filter_results.assign(req.filters.size(), DeleteAclsResponse::FilterResult{error, {}, {}});
  return r;
}

}  // namespace dmq::kafka
