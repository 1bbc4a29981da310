#pragma once

#include <string>
#include <string_view>

namespace dmq {

// Appends `text` to `out` escaped for use inside a JSON string literal.
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace dmq
