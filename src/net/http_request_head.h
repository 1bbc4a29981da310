#pragma once
// A strict HTTP/1.1 request-head parser (RFC 9112), pure: bytes in, a parsed
// head or the error status to answer out. No I/O, no allocation beyond the
// result. The server reads the head (up to the blank line) with its own size
// bound, parses it here, then reads exactly content_length body bytes.
//
// Refused, with the status a server answers:
//   400 a malformed request line, header line, percent-escape, Content-Length,
//       or both Content-Length and Transfer-Encoding (request smuggling);
//   411 a Transfer-Encoding body (chunked request bodies are not accepted);
//   413 a Content-Length above max_body_bytes;
//   417 an Expect other than 100-continue;
//   431 more than kMaxHeaderCount header fields;
//   505 an HTTP version other than 1.0 and 1.1.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dmq::net {

inline constexpr size_t kMaxHeaderCount = 100;

struct HttpRequestHead {
  std::string method;
  std::string target;                                        // as sent: path and query
  std::string path;                                          // percent-decoded
  std::vector<std::pair<std::string, std::string>> query;    // decoded, '+' is a space
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  int version_minor = 1;                                     // HTTP/1.<minor>
  uint64_t content_length = 0;
  bool keep_alive = true;  // HTTP/1.1 unless "Connection: close"; 1.0 only with keep-alive
  bool expect_continue = false;
};

struct HttpParseError {
  int status = 400;
  std::string code;  // snake_case, for the JSON error body
  std::string message;
};

// `head` is the request line and header lines, each ending in CRLF, and the
// empty line that ends the head (its CRLF may be left out).
std::variant<HttpRequestHead, HttpParseError> parse_request_head(std::string_view head,
                                                                 uint64_t max_body_bytes);

// Percent-decodes `text`; '+' becomes a space when `plus_is_space`. False on a
// bad escape or a decoded NUL.
bool percent_decode(std::string_view text, bool plus_is_space, std::string* out);

}  // namespace dmq::net
