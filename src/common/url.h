#pragma once

#include <string>
#include <string_view>

namespace dmq {

// `text` percent-encoded for one path segment of a URL (letters, digits and
// . _ - kept), so any topic or group name reaches the server intact and gets
// its error there rather than breaking the path.
std::string encode_path_segment(std::string_view text);

}  // namespace dmq
