#pragma once
// Integer query parameters of REST requests (?timeout=, ?max_bytes=, ...).

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>

namespace dmq::rest {

// `fallback` when the parameter is absent; nullopt when it is not a whole
// number in [lo, hi] (the caller answers 400).
inline std::optional<int64_t> int_query_param(const httplib::Request& req, const char* name,
                                              int64_t lo, int64_t hi, int64_t fallback) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  try {
    size_t used = 0;
    const int64_t v = std::stoll(text, &used);
    if (used == text.size() && v >= lo && v <= hi) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace dmq::rest
