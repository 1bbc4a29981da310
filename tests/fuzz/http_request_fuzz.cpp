// libFuzzer target: the HTTP request-head parser (untrusted bytes from any
// client of the REST port). Whatever the input, parsing ends in a head or an
// error status in 4xx/5xx, and a parsed head keeps its promises: a path that
// starts with '/', a body length within the bound, at most kMaxHeaderCount
// fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/http_request_head.h"

using namespace dmq::net;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  constexpr uint64_t kMaxBody = 1 << 20;
  std::string_view text(reinterpret_cast<const char*>(bytes), size);
  auto result = parse_request_head(text, kMaxBody);
  if (auto* error = std::get_if<HttpParseError>(&result)) {
    if (error->status < 400 || error->status > 505 || error->code.empty()) std::abort();
    return 0;
  }
  const auto& head = std::get<HttpRequestHead>(result);
  if (head.path.empty() || head.path.front() != '/') std::abort();
  if (head.content_length > kMaxBody) std::abort();
  if (head.headers.size() > kMaxHeaderCount) std::abort();
  if (head.version_minor != 0 && head.version_minor != 1) std::abort();
  return 0;
}
