#pragma once
// Log records in REST bodies, both ways (DESIGN.md §5 shapes):
//
// Out (HTTP consume, share-group fetch): keys, values and header values are
// JSON strings when they are valid UTF-8; otherwise base64, flagged by
// "key_encoding"/"value_encoding":"base64" (and "encoding":"base64" on a
// header). null stays null.
//
// In (HTTP produce): {"records":[{"key"?,"value"?,"partition"?,"headers"?}]}.
// A key or value is a string (its UTF-8 bytes), null, or any other JSON value
// (stored as its compact JSON text, so {"a":1} round-trips); with
// "key_encoding"/"value_encoding":"base64" the string is decoded. Headers are
// [{"key","value","encoding"?}] or {"name":"value",...}.
//
// Pure: no I/O, no clock; parse_produce_records is fuzzed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "kafka/protocol/record_batch.h"

namespace dmq::rest {

using OptionalBytes = std::optional<std::string>;
using RecordHeaders = std::vector<std::pair<std::string, OptionalBytes>>;

using BytesView = std::optional<std::string_view>;

// `"text"` with JSON escapes.
std::string json_string(std::string_view text);
// Appends `"name":value` (and `"name_encoding":"base64"` for non-UTF-8 bytes).
void append_bytes_field(std::string& json, std::string_view name, BytesView bytes);
// Appends one header object {"key":..,"value":..(,"encoding":"base64")}.
void append_header(std::string& json, std::string_view key, BytesView value);
// Appends `"headers":[...]`.
void append_headers_field(std::string& json, const RecordHeaders& headers);
// Appends one log record as HTTP consume answers it:
// {<prefix>"offset","timestamp","key","value","headers"}; `prefix` is extra
// leading fields with their trailing comma ("" for none).
void append_log_record(std::string& json, std::string_view prefix, int64_t offset,
                       int64_t timestamp_ms, const kafka::Record& record);

struct ProduceRecord {
  OptionalBytes key;
  OptionalBytes value;
  std::optional<int32_t> partition;
  RecordHeaders headers;
};

struct ProduceParseError {
  std::string message;  // says which record and field, never echoes the bytes
};

inline constexpr size_t kMaxProduceRecords = 100000;

// The records of a produce body, or why it is refused.
std::variant<std::vector<ProduceRecord>, ProduceParseError> parse_produce_records(
    std::string_view body);

}  // namespace dmq::rest
