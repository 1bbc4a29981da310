#include "net/json_body.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/json_escape.h"

namespace dmq::net {

std::optional<HttpResponse> parse_json_object(const std::string& body, rapidjson::Document* doc) {
  if (!json_depth_within(body))
    return json_error(
        400, "invalid_json",
        "body nests arrays and objects deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  doc->Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc->HasParseError()) {
    return json_error(400, "invalid_json",
                      std::string("body is not valid JSON: ") +
                          rapidjson::GetParseError_En(doc->GetParseError()) + " at byte " +
                          std::to_string(doc->GetErrorOffset()));
  }
  if (!doc->IsObject()) return json_error(400, "invalid_json", "body must be a JSON object");
  return std::nullopt;
}

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace dmq::net
