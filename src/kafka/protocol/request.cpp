#include "kafka/protocol/request.h"

namespace dmq::kafka {

CodecError read_frame_size(const char* prefix, int32_t max, int32_t& size) {
  Reader r(std::string_view(prefix, 4));
  size = r.i32();
  if (size < 0 || size > max) return CodecError::kInvalidValue;
  return CodecError::kOk;
}

namespace detail {

EncodedFrame finish_frame(Writer& w, size_t size_at) {
  size_t body = w.size() - size_at - 4 + w.spliced_bytes();
  DMQ_ASSERT(body <= static_cast<size_t>(INT32_MAX));
  w.patch_i32(size_at, static_cast<int32_t>(body));
  return w.take();
}

}  // namespace detail

namespace {

template <class Req>
CodecError decode_body(std::string_view body, int16_t version, Request& out) {
  auto& req = out.body.emplace<Req>();
  return decode(body, version, req);
}

}  // namespace

CodecError decode_request(std::string_view frame, Request& out) {
  out.body.emplace<std::monostate>();
  size_t body_offset = 0;
  CodecError e = parse_request_header(frame, out.header, body_offset);
  if (e != CodecError::kOk) return e;
  std::string_view body = frame.substr(body_offset);
  switch (out.api_key()) {
#define DMQ_KAFKA_DECODE_CASE(key, req, resp) \
  case ApiKey::key:                           \
    return decode_body<req>(body, out.header.api_version, out);
    DMQ_KAFKA_APIS(DMQ_KAFKA_DECODE_CASE)
#undef DMQ_KAFKA_DECODE_CASE
  }
  return CodecError::kUnknownApiKey;
}

EncodedFrame encode_error_response(const Request& request, ErrorCode error) {
  DMQ_ASSERT(!std::holds_alternative<std::monostate>(request.body));
  return std::visit(
      [&](const auto& req) -> EncodedFrame {
        using Req = std::decay_t<decltype(req)>;
        if constexpr (std::is_same_v<Req, std::monostate>) {
          return {};
        } else {
          return encode_response(request.header,
                                 make_error_response(req, request.header.api_version, error));
        }
      },
      request.body);
}

EncodedFrame encode_api_versions_unsupported(int32_t correlation_id) {
  RequestHeader h;
  h.api_key = static_cast<int16_t>(ApiKey::kApiVersions);
  h.api_version = 0;
  h.correlation_id = correlation_id;
  return encode_response(
      h, make_error_response(ApiVersionsRequest{}, 0, ErrorCode::kUnsupportedVersion));
}

}  // namespace dmq::kafka
