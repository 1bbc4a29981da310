#pragma once
// Parsing of JSON request bodies for REST handlers, with the JSON 400 errors
// the API promises for malformed input.

#include <rapidjson/document.h>

#include <optional>
#include <string>

#include "net/http_server.h"

namespace dmq::net {

// Parses `body` into `doc`; on failure returns the 400 response to send
// (invalid JSON with the byte offset, or a body that is not an object).
std::optional<HttpResponse> parse_json_object(const std::string& body, rapidjson::Document* doc);

// Serializes a RapidJSON value.
std::string to_json(const rapidjson::Value& value);

}  // namespace dmq::net
