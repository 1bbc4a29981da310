#pragma once
// Internal: strict JSON parsing shared by the JWT, JWKS and ACL parsers.

#include <rapidjson/document.h>

#include <optional>
#include <string_view>

#include "security/error.h"

namespace dmq::security {

// Parses `text` (valid UTF-8, iteratively so nesting cannot exhaust the
// stack) into `doc` and requires an object whose member names are unique at
// every level: a repeated "alg" or "exp" would let two readers of one token
// disagree. kMalformed naming `what` otherwise.
Status parse_json_object(std::string_view text, std::string_view what, rapidjson::Document& doc);

// The member `name` of `object` when present and a string.
std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name);

}  // namespace dmq::security
