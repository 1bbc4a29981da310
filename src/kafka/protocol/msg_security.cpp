#include "kafka/protocol/msg_security.h"

namespace dmq::kafka {

// ---- SaslHandshake --------------------------------------------------------------

template <class IO, MessageOf<SaslHandshakeRequest> M>
void serde(IO& io, M& m) {
  io.string(m.mechanism);
}

template <class IO, MessageOf<SaslHandshakeResponse> M>
void serde(IO& io, M& m) {
  io.error(m.error_code);
  io.array(m.mechanisms, [&](auto& s) { io.string(s); });
}

// ---- SaslAuthenticate -----------------------------------------------------------

template <class IO, MessageOf<SaslAuthenticateRequest> M>
void serde(IO& io, M& m) {
  io.bytes(m.auth_bytes);
  io.tags();
}

template <class IO, MessageOf<SaslAuthenticateResponse> M>
void serde(IO& io, M& m) {
  io.error(m.error_code);
  io.nstring(m.error_message);
  io.bytes(m.auth_bytes);
  if (io.version() >= 1) io.i64(m.session_lifetime_ms);
  io.tags();
}

// ---- DescribeUserScramCredentials -----------------------------------------------

template <class IO, MessageOf<DescribeUserScramCredentialsRequest> M>
void serde(IO& io, M& m) {
  io.narray(m.users, [&](auto& u) {
    io.string(u.name);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<DescribeUserScramCredentialsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.error(m.error_code);
  io.nstring(m.error_message);
  io.array(m.results, [&](auto& r) {
    io.string(r.user);
    io.error(r.error_code);
    io.nstring(r.error_message);
    io.array(r.credential_infos, [&](auto& c) {
      io.i8(c.mechanism);
      io.i32(c.iterations);
      io.tags();
    });
    io.tags();
  });
  io.tags();
}

// ---- AlterUserScramCredentials --------------------------------------------------

template <class IO, MessageOf<AlterUserScramCredentialsRequest> M>
void serde(IO& io, M& m) {
  io.array(m.deletions, [&](auto& d) {
    io.string(d.name);
    io.i8(d.mechanism);
    io.tags();
  });
  io.array(m.upsertions, [&](auto& u) {
    io.string(u.name);
    io.i8(u.mechanism);
    io.i32(u.iterations);
    io.bytes(u.salt);
    io.bytes(u.salted_password);
    io.tags();
  });
  io.tags();
}

template <class IO, MessageOf<AlterUserScramCredentialsResponse> M>
void serde(IO& io, M& m) {
  io.i32(m.throttle_time_ms);
  io.array(m.results, [&](auto& r) {
    io.string(r.user);
    io.error(r.error_code);
    io.nstring(r.error_message);
    io.tags();
  });
  io.tags();
}

DMQ_KAFKA_DEFINE_CODEC(SaslHandshakeRequest)
DMQ_KAFKA_DEFINE_CODEC(SaslHandshakeResponse)
DMQ_KAFKA_DEFINE_CODEC(SaslAuthenticateRequest)
DMQ_KAFKA_DEFINE_CODEC(SaslAuthenticateResponse)
DMQ_KAFKA_DEFINE_CODEC(DescribeUserScramCredentialsRequest)
DMQ_KAFKA_DEFINE_CODEC(DescribeUserScramCredentialsResponse)
DMQ_KAFKA_DEFINE_CODEC(AlterUserScramCredentialsRequest)
DMQ_KAFKA_DEFINE_CODEC(AlterUserScramCredentialsResponse)

SaslHandshakeResponse make_error_response(const SaslHandshakeRequest&, int16_t, ErrorCode error) {
  SaslHandshakeResponse r;
  r.error_code = error;
  return r;
}

SaslAuthenticateResponse make_error_response(const SaslAuthenticateRequest&, int16_t,
                                             ErrorCode error) {
  SaslAuthenticateResponse r;
  r.error_code = error;
  return r;
}

DescribeUserScramCredentialsResponse make_error_response(const DescribeUserScramCredentialsRequest&,
                                                         int16_t, ErrorCode error) {
  DescribeUserScramCredentialsResponse r;
  r.error_code = error;
  return r;
}

AlterUserScramCredentialsResponse make_error_response(const AlterUserScramCredentialsRequest& req,
                                                      int16_t, ErrorCode error) {
  AlterUserScramCredentialsResponse r;
  auto add = [&](std::string_view user) {
    for (const auto& existing : r.results)
      if (existing.user == user) return;
    r.results.push_back({std::string(user), error, std::nullopt});
  };
  for (const auto& d : req.deletions) add(d.name);
  for (const auto& u : req.upsertions) add(u.name);
  return r;
}

}  // namespace dmq::kafka
