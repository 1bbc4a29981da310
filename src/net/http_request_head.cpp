#include "net/http_request_head.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace dmq::net {
namespace {

using Result = std::variant<HttpRequestHead, HttpParseError>;

HttpParseError bad(std::string message) {
  return HttpParseError{400, "bad_request", std::move(message)};
}

// RFC 9110 tchar: the characters of a method and of a header name.
bool is_token_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return kSymbols.find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

// Field values: visible characters, spaces and tabs, and obs-text (>= 0x80).
bool is_field_value(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "GET /path?q HTTP/1.1" into the head; an error otherwise.
std::optional<HttpParseError> parse_request_line(std::string_view line, HttpRequestHead& head) {
  size_t first = line.find(' ');
  size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last) return bad("malformed request line");
  std::string_view method = line.substr(0, first);
  std::string_view target = line.substr(first + 1, last - first - 1);
  std::string_view version = line.substr(last + 1);
  if (!is_token(method)) return bad("malformed request method");
  if (target.empty() || target.front() != '/') return bad("the request target must be a path");
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return bad("malformed request target");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      !std::isdigit(static_cast<unsigned char>(version[5])) ||
      !std::isdigit(static_cast<unsigned char>(version[7]))) {
    return bad("malformed HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return HttpParseError{505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1"};
  }
  head.method = std::string(method);
  head.target = std::string(target);
  head.version_minor = version[7] - '0';
  head.keep_alive = head.version_minor == 1;
  return std::nullopt;
}

std::optional<HttpParseError> parse_query(std::string_view query, HttpRequestHead& head) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key;
    std::string value;
    if (!percent_decode(pair.substr(0, eq), true, &key)) return bad("malformed query string");
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), true, &value)) {
      return bad("malformed query string");
    }
    head.query.emplace_back(std::move(key), std::move(value));
  }
  return std::nullopt;
}

std::optional<HttpParseError> parse_target(HttpRequestHead& head) {
  std::string_view target = head.target;
  size_t question = target.find('?');
  if (!percent_decode(target.substr(0, question), false, &head.path)) {
    return bad("malformed path");
  }
  if (question == std::string_view::npos) return std::nullopt;
  return parse_query(target.substr(question + 1), head);
}

// Content-Length is 1*DIGIT; repeated fields must agree (RFC 9112 6.3).
std::optional<HttpParseError> read_content_length(std::string_view value,
                                                  std::optional<uint64_t>& length) {
  uint64_t parsed = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
    return bad("malformed Content-Length");
  }
  if (length && *length != parsed) return bad("conflicting Content-Length fields");
  length = parsed;
  return std::nullopt;
}

// Connection: a comma-separated token list.
void read_connection(std::string_view value, HttpRequestHead& head) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view token = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (equals_ignore_case(token, "close")) head.keep_alive = false;
    if (equals_ignore_case(token, "keep-alive") && head.version_minor == 0) head.keep_alive = true;
  }
}

struct FramingFields {
  std::optional<uint64_t> content_length;
  bool transfer_encoding = false;
  bool close = false;
  bool keep_alive_token = false;
};

// The fields that decide framing and the connection's fate.
std::optional<HttpParseError> interpret_field(std::string_view name, std::string_view value,
                                              FramingFields& framing, HttpRequestHead& head) {
  if (equals_ignore_case(name, "content-length")) {
    return read_content_length(value, framing.content_length);
  }
  if (equals_ignore_case(name, "transfer-encoding")) framing.transfer_encoding = true;
  if (equals_ignore_case(name, "connection")) read_connection(value, head);
  if (equals_ignore_case(name, "expect")) {
    if (!equals_ignore_case(value, "100-continue")) {
      return HttpParseError{417, "expectation_failed", "only Expect: 100-continue is supported"};
    }
    head.expect_continue = true;
  }
  return std::nullopt;
}

std::optional<HttpParseError> parse_header_line(std::string_view line, FramingFields& framing,
                                                HttpRequestHead& head) {
  if (line.front() == ' ' || line.front() == '\t') return bad("folded header lines are obsolete");
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bad("malformed header line");
  std::string_view name = line.substr(0, colon);
  std::string_view value = trim(line.substr(colon + 1));
  if (!is_token(name)) return bad("malformed header name");
  if (!is_field_value(value)) return bad("malformed header value");
  if (head.headers.size() == kMaxHeaderCount) {
    return HttpParseError{431, "request_header_fields_too_large", "too many header fields"};
  }
  head.headers.emplace_back(std::string(name), std::string(value));
  return interpret_field(name, value, framing, head);
}

std::optional<HttpParseError> check_framing(const FramingFields& framing, uint64_t max_body_bytes,
                                            HttpRequestHead& head) {
  if (framing.transfer_encoding && framing.content_length) {
    return bad("both Content-Length and Transfer-Encoding");
  }
  if (framing.transfer_encoding) {
    return HttpParseError{411, "length_required",
                          "request bodies need Content-Length (Transfer-Encoding is not accepted)"};
  }
  head.content_length = framing.content_length.value_or(0);
  if (head.content_length > max_body_bytes) {
    return HttpParseError{
        413, "payload_too_large",
        "request body is larger than " + std::to_string(max_body_bytes) + " bytes"};
  }
  return std::nullopt;
}

}  // namespace

bool percent_decode(std::string_view text, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return false;
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return false;
      c = static_cast<char>(high * 16 + low);
      if (c == '\0') return false;
      i += 2;
    }
    out->push_back(c);
  }
  return true;
}

Result parse_request_head(std::string_view text, uint64_t max_body_bytes) {
  HttpRequestHead head;
  FramingFields framing;
  bool first = true;
  while (true) {
    size_t end = text.find("\r\n");
    std::string_view line = text.substr(0, end);
    if (line.empty()) break;  // the blank line (or the end of the bytes) ends the head
    if (end == std::string_view::npos) return bad("header line without CRLF");
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos) {
      return bad("bare CR or LF in the request head");
    }
    auto error = first ? parse_request_line(line, head) : parse_header_line(line, framing, head);
    if (error) return *std::move(error);
    first = false;
    text.remove_prefix(end + 2);
  }
  if (first) return bad("empty request");
  if (auto error = parse_target(head)) return *std::move(error);
  if (auto error = check_framing(framing, max_body_bytes, head)) return *std::move(error);
  return head;
}

}  // namespace dmq::net
