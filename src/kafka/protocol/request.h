#pragma once
// Whole frames: decode any supported request, encode its response (with the
// right header), build error responses; and the mirror image (encode a
// request, decode a response) for DMQ's own clients such as replica fetchers.
//
// Frames on the wire are an int32 size followed by that many bytes. Functions
// here take a frame WITHOUT its size prefix when decoding, and produce one
// WITH the prefix when encoding (EncodedFrame, see io.h for splices).
//
// Ownership: a decoded Request views the frame passed in (string_views,
// Records); keep that buffer alive and unmoved while the Request is in use.
// Pure functions; thread-compatible.

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "kafka/protocol/header.h"
#include "kafka/protocol/messages.h"

namespace dmq::kafka {

// Kafka's socket.request.max.bytes default (100 MiB): read the size prefix,
// check it, and only then allocate.
constexpr int32_t kMaxRequestFrameBytes = 100 * 1024 * 1024;

// The size prefix at `prefix[0..4)`; kInvalidValue if negative or above `max`.
CodecError read_frame_size(const char* prefix, int32_t max, int32_t& size);

#define DMQ_KAFKA_REQUEST_TYPE(key, req, resp) req,
using RequestBody = std::variant<DMQ_KAFKA_APIS(DMQ_KAFKA_REQUEST_TYPE) std::monostate>;
#undef DMQ_KAFKA_REQUEST_TYPE

struct Request {
  RequestHeader header;
  RequestBody body;  // std::monostate until decoded
  ApiKey api_key() const { return static_cast<ApiKey>(header.api_key); }
};

// Decodes header and body of `frame` (no size prefix). On kOk `out.body` holds
// the request type for `out.header.api_key`. On kUnknownApiKey or
// kUnsupportedVersion the header is valid but the body is not decoded: answer
// ApiVersions with encode_api_versions_unsupported() and close the connection
// for anything else (what Kafka does). Any other error: malformed; close.
CodecError decode_request(std::string_view frame, Request& out);

// Encodes `response` as the answer to `header` (same API and version).
template <class Response>
EncodedFrame encode_response(const RequestHeader& header, const Response& response);

// The request's own error response (every partition/topic/group/member
// carrying `error`), encoded at the request's version. `request.body` must be
// decoded (not monostate).
EncodedFrame encode_error_response(const Request& request, ErrorCode error);

// The answer to an ApiVersions request whose version DMQ does not support
// (KIP-511): a v0 body with UNSUPPORTED_VERSION and ApiVersions' own range,
// which librdkafka and kafkajs use to retry with a lower version.
EncodedFrame encode_api_versions_unsupported(int32_t correlation_id);

// Client side: a request frame with header v1/v2 as the API version requires.
template <class Req>
EncodedFrame encode_request(int16_t version, int32_t correlation_id,
                            std::optional<std::string_view> client_id, const Req& request);

// Client side: decodes a response frame (no size prefix) for `version`.
template <class Response>
CodecError decode_response(std::string_view frame, int16_t version, int32_t& correlation_id,
                           Response& out);

// ---- template definitions ------------------------------------------------------

namespace detail {
EncodedFrame finish_frame(Writer& w, size_t size_at);
}

template <class Response>
EncodedFrame encode_response(const RequestHeader& header, const Response& response) {
  DMQ_ASSERT(header.api_key == static_cast<int16_t>(Response::kApiKey));
  Writer w(256);
  size_t size_at = w.placeholder_i32();
  write_response_header(w, Response::kApiKey, header.api_version, header.correlation_id);
  encode(w, header.api_version, response);
  return detail::finish_frame(w, size_at);
}

template <class Req>
EncodedFrame encode_request(int16_t version, int32_t correlation_id,
                            std::optional<std::string_view> client_id, const Req& request) {
  Writer w(256);
  size_t size_at = w.placeholder_i32();
  write_request_header(w, Req::kApiKey, version, correlation_id, client_id);
  encode(w, version, request);
  return detail::finish_frame(w, size_at);
}

template <class Response>
CodecError decode_response(std::string_view frame, int16_t version, int32_t& correlation_id,
                           Response& out) {
  size_t body_offset = 0;
  CodecError e =
      parse_response_header(frame, Response::kApiKey, version, correlation_id, body_offset);
  if (e != CodecError::kOk) return e;
  return decode(frame.substr(body_offset), version, out);
}

}  // namespace dmq::kafka
