// libFuzzer target: the HTTP produce body parser (untrusted JSON from any
// REST client) and the record encoder its output feeds. Whatever the input,
// parsing ends in records or an error message, and encoding the records'
// bytes gives JSON that the parser's own JSON reader accepts.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rest/record_json.h"

using namespace dmq::rest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(bytes), size);
  auto parsed = parse_produce_records(body);
  if (auto* records = std::get_if<std::vector<ProduceRecord>>(&parsed)) {
    std::string json = "{";
    for (const auto& r : *records) {
      json.resize(1);
      append_bytes_field(json, "key", r.key);
      json += ",";
      append_bytes_field(json, "value", r.value);
      json += ",";
      append_headers_field(json, r.headers);
      json += "}";
      rapidjson::Document doc;
      doc.Parse(json.data(), json.size());
      if (doc.HasParseError()) std::abort();  // the encoder wrote invalid JSON
    }
  }
  return 0;
}
