#include "client/format.h"

#include "common/base64.h"
#include "common/json_escape.h"

namespace dmq::client {
namespace {

constexpr std::string_view kFields = "kvsopt ThKS%";

void append_optional(std::string& out, std::optional<std::string_view> text) {
  if (text) out.append(*text);
}

std::string length_of(std::optional<std::string_view> text) {
  return text ? std::to_string(text->size()) : "-1";
}

void append_headers(std::string& out, const std::vector<kafka::RecordHeader>& headers) {
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(headers[i].key);
    out.push_back('=');
    append_optional(out, headers[i].value);
  }
}

void append_json_string(std::string& out, std::optional<std::string_view> text) {
  if (!text) {
    out.append("null");
    return;
  }
  out.push_back('"');
  append_json_escaped(out, *text);
  out.push_back('"');
}

std::optional<char> unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    case '\\':
      return '\\';
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<OutputFormat> OutputFormat::parse(std::string_view spec, std::string* error) {
  OutputFormat f;
  auto literal = [&f](char c) {
    if (f.pieces_.empty() || f.pieces_.back().field != 0) f.pieces_.push_back({});
    f.pieces_.back().text.push_back(c);
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (c != '%' && c != '\\') {
      literal(c);
      continue;
    }
    if (i + 1 == spec.size()) {
      *error = std::string("--format ends with a lone '") + c + "'";
      return std::nullopt;
    }
    char next = spec[++i];
    if (c == '\\') {
      auto u = unescape(next);
      if (!u) {
        *error = std::string("--format has an unknown escape '\\") + next + "'";
        return std::nullopt;
      }
      literal(*u);
    } else if (next == '%') {
      literal('%');
    } else if (next != ' ' && kFields.find(next) != std::string_view::npos) {
      f.pieces_.push_back({next, {}});
    } else {
      *error = std::string("--format has an unknown placeholder '%") + next + "'";
      return std::nullopt;
    }
  }
  return f;
}

void OutputFormat::render(const Message& m, std::string& out) const {
  for (const auto& piece : pieces_) {
    switch (piece.field) {
      case 0:
        out.append(piece.text);
        break;
      case 'k':
        append_optional(out, m.key);
        break;
      case 'v':
      case 's':
        append_optional(out, m.value);
        break;
      case 'o':
        out.append(std::to_string(m.offset));
        break;
      case 'p':
        out.append(std::to_string(m.partition));
        break;
      case 't':
        out.append(m.topic);
        break;
      case 'T':
        out.append(std::to_string(m.timestamp_ms));
        break;
      case 'h':
        append_headers(out, m.headers);
        break;
      case 'K':
        out.append(length_of(m.key));
        break;
      case 'S':
        out.append(length_of(m.value));
        break;
    }
  }
}

// `"name":value` for record bytes: a JSON string when they are UTF-8, else
// base64 flagged by `"<flag>":"base64"` (the REST API's convention), so the
// output is always valid JSON.
void append_bytes_member(std::string& out, std::string_view name, std::string_view flag,
                         std::optional<std::string_view> bytes) {
  out.push_back('"');
  out.append(name).append("\":");
  if (!bytes || is_valid_utf8(*bytes)) {
    append_json_string(out, bytes);
    return;
  }
  append_json_string(out, base64_encode(*bytes));
  out.append(",\"").append(flag).append("\":\"base64\"");
}

void render_json(const Message& m, std::string& out) {
  out.append("{\"topic\":");
  append_json_string(out, m.topic);
  out.append(",\"partition\":").append(std::to_string(m.partition));
  out.append(",\"offset\":").append(std::to_string(m.offset));
  out.append(",\"timestamp\":").append(std::to_string(m.timestamp_ms));
  out.push_back(',');
  append_bytes_member(out, "key", "key_encoding", m.key);
  out.push_back(',');
  append_bytes_member(out, "value", "value_encoding", m.value);
  out.append(",\"headers\":[");
  for (size_t i = 0; i < m.headers.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"key\":");
    append_json_string(out, m.headers[i].key);
    out.push_back(',');
    append_bytes_member(out, "value", "encoding", m.headers[i].value);
    out.push_back('}');
  }
  out.append("]}");
}

InputRecord split_line(std::string_view line, const std::optional<std::string>& separator) {
  if (separator && !separator->empty()) {
    auto at = line.find(*separator);
    if (at != std::string_view::npos) {
      return {std::string(line.substr(0, at)), std::string(line.substr(at + separator->size()))};
    }
  }
  return {std::nullopt, std::string(line)};
}

std::optional<std::pair<std::string, std::string>> parse_header(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return std::nullopt;
  return std::make_pair(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
}

}  // namespace dmq::client
