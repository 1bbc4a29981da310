#pragma once

#include <string>
#include <string_view>

namespace dmq {

// Appends `text` to `out` escaped for use inside a JSON string literal.
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace dmq

namespace dmq {

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF): what may go into a JSON string as is.
bool is_valid_utf8(std::string_view text);

}  // namespace dmq

namespace dmq {

// The deepest JSON bodies DMQ parses. RapidJSON's recursive parser, writer and
// value walks use stack per level, so untrusted text is checked first: a body
// of a few hundred kilobytes of '[' would otherwise overflow a thread's stack.
inline constexpr size_t kMaxJsonDepth = 64;

// False when arrays and objects in `text` nest deeper than `max_depth`
// (brackets inside strings do not count). A cheap pre-check, not a validator.
bool json_depth_within(std::string_view text, size_t max_depth = kMaxJsonDepth);

}  // namespace dmq
