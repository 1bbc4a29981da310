#pragma once
// Text in and out of `dmq produce` and `dmq consume`, kept pure so the rules
// are unit-tested: how a stdin line splits into key and value, how
// `--header k=v` parses, and how a consumed record is printed with a
// `--format` template or as one JSON object per line.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/protocol/record_batch.h"

namespace dmq::client {

// A consumed record, with views into the fetched (and decompressed) bytes.
struct Message {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = -1;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<kafka::RecordHeader> headers;
};

// A `--format` template, compiled once. Placeholders follow kcat's:
// %k key, %v (or %s) value, %o offset, %p partition, %t topic, %T timestamp
// (ms), %h headers as k=v,k=v, %K / %S key and value length (-1 for null),
// %% a percent sign; escapes \n \t \r \\ .
class OutputFormat {
 public:
  // nullopt and `error` for an unknown placeholder or escape.
  static std::optional<OutputFormat> parse(std::string_view spec, std::string* error);
  void render(const Message& m, std::string& out) const;

 private:
  struct Piece {
    char field = 0;  // 0: literal text
    std::string text;
  };
  std::vector<Piece> pieces_;
};

// The record as one JSON object (no newline): topic, partition, offset,
// timestamp, key and value (null when null) and headers as [{"key","value"}].
// Bytes that are not UTF-8 go as base64 with "key_encoding"/"value_encoding"
// (or a header's "encoding") set to "base64", so every line is valid JSON.
void render_json(const Message& m, std::string& out);

// A record to produce from one input line.
struct InputRecord {
  std::optional<std::string> key;
  std::string value;
};

// Splits `line` at the first `separator` (key before, value after). Without a
// separator, or when the line lacks it, the whole line is the value and the
// key is null (kcat -K behaves the same way).
InputRecord split_line(std::string_view line, const std::optional<std::string>& separator);

// "k=v" (the value may be empty or contain '='); nullopt without '=' or key.
std::optional<std::pair<std::string, std::string>> parse_header(std::string_view text);

}  // namespace dmq::client
