#pragma once
// Request and response headers (RequestHeader.json / ResponseHeader.json).
//
// Request header v1: api_key int16, api_version int16, correlation_id int32,
// client_id nullable STRING (int16 length). v2 adds a tagged-field section after
// client_id; client_id stays a non-compact string even then. Which version
// applies follows from the API version's flexibility (api.h), which is why the
// first four bytes are read before the rest.

#include <cstdint>
#include <optional>
#include <string_view>

#include "kafka/protocol/api.h"
#include "kafka/protocol/io.h"

namespace dmq::kafka {

struct RequestHeader {
  int16_t api_key = 0;  // raw: may name an API DMQ does not implement
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string_view> client_id;  // views the frame
};

// Parses the header at the start of `frame` (a request frame without its
// 4-byte size prefix). On return `body_offset` is where the body starts.
// Results:
//   kOk                  header parsed; API known and version supported.
//   kUnknownApiKey       api_key/api_version/correlation_id are filled; the
//                        body cannot be interpreted (Kafka closes the connection).
//   kUnsupportedVersion  header fully parsed (flexibility guessed from the
//                        version); the caller answers with an error response
//                        (ApiVersions: see make_api_versions_unsupported()).
//   kTruncated/...       malformed; only the fields read so far are valid.
CodecError parse_request_header(std::string_view frame, RequestHeader& out, size_t& body_offset);

// Writes a request header for `key`/`version` (used by DMQ's own clients,
// e.g. replica fetchers, and by tests).
void write_request_header(Writer& w, ApiKey key, int16_t version, int32_t correlation_id,
                          std::optional<std::string_view> client_id);

// Writes the response header for `key`/`version` (v0 or v1, see api.h).
void write_response_header(Writer& w, ApiKey key, int16_t version, int32_t correlation_id);

// Reads a response header; `frame` excludes the size prefix.
CodecError parse_response_header(std::string_view frame, ApiKey key, int16_t version,
                                 int32_t& correlation_id, size_t& body_offset);

}  // namespace dmq::kafka
