// libFuzzer target: a request frame (without its size prefix) through
// decode_request(); whatever decodes must re-encode to a fixed point and have
// an encodable error response. Also runs the bytes as a response of the API
// named by the first two bytes, as DMQ's replica fetchers decode responses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kafka/protocol/request.h"

using namespace dmq::kafka;

namespace {

void check_request(std::string_view frame) {
  Request req;
  if (decode_request(frame, req) != CodecError::kOk) return;
  std::visit(
      [&](const auto& body) {
        using Req = std::decay_t<decltype(body)>;
        if constexpr (!std::is_same_v<Req, std::monostate>) {
          int16_t v = req.header.api_version;
          EncodedFrame once = encode_request(v, req.header.correlation_id, "f", body);
          Request again;
          if (decode_request(std::string_view(once.bytes).substr(4), again) != CodecError::kOk) {
            __builtin_trap();
          }
          EncodedFrame twice =
              encode_request(v, req.header.correlation_id, "f", std::get<Req>(again.body));
          if (once.bytes != twice.bytes) __builtin_trap();
          (void)encode_error_response(req, ErrorCode::kUnknownServerError);
        }
      },
      req.body);
}

template <class Resp>
void check_response(std::string_view frame, int16_t version) {
  Resp out;
  int32_t corr = 0;
  if (decode_response(frame, version, corr, out) != CodecError::kOk) return;
  Writer w;
  encode(w, version, out);
  Resp back;
  if (decode(w.bytes(), version, back) != CodecError::kOk) __builtin_trap();
}

void check_as_response(std::string_view data) {
  if (data.size() < 4) return;
  Reader r(data);
  int16_t key = r.i16();
  int16_t version = r.i16();
  const ApiInfo* api = find_api(key);
  if (api == nullptr || !version_supported(*api, version)) return;
  std::string_view frame = data.substr(4);
  switch (api->key) {
#define DMQ_KAFKA_FUZZ_RESP(k, req, resp) \
  case ApiKey::k:                         \
    check_response<resp>(frame, version); \
    return;
    DMQ_KAFKA_APIS(DMQ_KAFKA_FUZZ_RESP)
#undef DMQ_KAFKA_FUZZ_RESP
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_request(input);
  check_as_response(input);
  return 0;
}
