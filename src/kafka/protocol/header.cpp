#include "kafka/protocol/header.h"

#include "kafka/protocol/serde.h"

namespace dmq::kafka {

CodecError parse_request_header(std::string_view frame, RequestHeader& out, size_t& body_offset) {
  Reader r(frame);
  out.api_key = r.i16();
  out.api_version = r.i16();
  out.correlation_id = r.i32();
  body_offset = r.position();
  if (!r.ok()) return r.error();
  const ApiInfo* api = find_api(out.api_key);
  if (api == nullptr) return CodecError::kUnknownApiKey;

  // client_id is non-compact in every header version (its schema field says
  // "flexibleVersions": "none"), so read it with a non-flexible IO.
  DecodeIO classic(r, out.api_version, /*flexible=*/false);
  classic.nstring(out.client_id);
  // Versions above the supported range are flexible if the API is flexible at
  // all: flexibility never goes away in later versions.
  DecodeIO io(r, out.api_version, is_flexible(*api, out.api_version));
  io.tags();
  body_offset = r.position();
  if (!r.ok()) return r.error();
  if (!version_supported(*api, out.api_version)) return CodecError::kUnsupportedVersion;
  return CodecError::kOk;
}

void write_request_header(Writer& w, ApiKey key, int16_t version, int32_t correlation_id,
                          std::optional<std::string_view> client_id) {
  w.i16(static_cast<int16_t>(key));
  w.i16(version);
  w.i32(correlation_id);
  EncodeIO classic(w, version, false);
  classic.nstring(client_id);
  if (request_header_version(key, version) >= 2) w.uvarint(0);
}

void write_response_header(Writer& w, ApiKey key, int16_t version, int32_t correlation_id) {
  w.i32(correlation_id);
  if (response_header_version(key, version) >= 1) w.uvarint(0);
}

CodecError parse_response_header(std::string_view frame, ApiKey key, int16_t version,
                                 int32_t& correlation_id, size_t& body_offset) {
  Reader r(frame);
  correlation_id = r.i32();
  DecodeIO io(r, version, response_header_version(key, version) >= 1);
  io.tags();
  body_offset = r.position();
  return r.error();
}

}  // namespace dmq::kafka
