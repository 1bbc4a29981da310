#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dmq {

std::string base64_encode(std::string_view bytes);
// nullopt for text that is not canonical padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace dmq
