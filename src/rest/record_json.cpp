#include "rest/record_json.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/base64.h"
#include "common/json_escape.h"

namespace dmq::rest {

std::string json_string(std::string_view text) {
  std::string out = "\"";
  append_json_escaped(out, text);
  return out + "\"";
}

namespace {

// The bytes as a JSON string (or null); bytes that are not UTF-8 go as base64
// followed by the member `"<flag>":"base64"` that says so.
void append_bytes_value(std::string& json, BytesView bytes, std::string_view flag) {
  if (!bytes) {
    json += "null";
  } else if (is_valid_utf8(*bytes)) {
    json += '"';
    append_json_escaped(json, *bytes);
    json += '"';
  } else {
    json += '"' + base64_encode(*bytes) + "\",\"";
    json.append(flag);
    json += "\":\"base64\"";
  }
}

}  // namespace

void append_bytes_field(std::string& json, std::string_view name, BytesView bytes) {
  json += '"';
  json.append(name);
  json += "\":";
  append_bytes_value(json, bytes, std::string(name) + "_encoding");
}

void append_header(std::string& json, std::string_view key, BytesView value) {
  json += "{\"key\":" + json_string(key) + ",\"value\":";
  append_bytes_value(json, value, "encoding");
  json += "}";
}

void append_headers_field(std::string& json, const RecordHeaders& headers) {
  json += "\"headers\":[";
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i) json += ",";
    const auto& [key, value] = headers[i];
    append_header(json, key, value ? BytesView(*value) : std::nullopt);
  }
  json += "]";
}

void append_log_record(std::string& json, std::string_view prefix, int64_t offset,
                       int64_t timestamp_ms, const kafka::Record& record) {
  json += "{";
  json += prefix;
  json += "\"offset\":" + std::to_string(offset) +
          ",\"timestamp\":" + std::to_string(timestamp_ms) + ",";
  append_bytes_field(json, "key", record.key);
  json += ",";
  append_bytes_field(json, "value", record.value);
  json += ",\"headers\":[";
  for (size_t h = 0; h < record.headers.size(); ++h) {
    if (h) json += ",";
    append_header(json, record.headers[h].key, record.headers[h].value);
  }
  json += "]}";
}

namespace {

using Value = rapidjson::Value;

std::string compact_json(const Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string where(size_t index, std::string_view field) {
  return "record " + std::to_string(index) + ": \"" + std::string(field) + "\"";
}

// True when `object[encoding_field]` asks for base64; an error for any other value.
std::optional<std::string> wants_base64(const Value& object, const char* encoding_field,
                                        bool* base64) {
  *base64 = false;
  if (!object.HasMember(encoding_field) || object[encoding_field].IsNull()) return std::nullopt;
  const Value& e = object[encoding_field];
  if (!e.IsString()) return std::string(" must be a string");
  std::string_view name(e.GetString(), e.GetStringLength());
  if (name == "base64") {
    *base64 = true;
  } else if (name != "string" && name != "json") {
    return std::string(" must be \"base64\", \"string\" or \"json\"");
  }
  return std::nullopt;
}

// A key, value or header value: its bytes, or an error message.
std::variant<OptionalBytes, std::string> bytes_of(const Value& v, bool base64) {
  if (v.IsNull()) return OptionalBytes{};
  if (v.IsString()) {
    std::string_view text(v.GetString(), v.GetStringLength());
    if (!base64) return OptionalBytes{std::string(text)};
    auto decoded = base64_decode(text);
    if (!decoded) return std::string(" is not valid base64");
    return OptionalBytes{std::move(*decoded)};
  }
  if (base64) return std::string(" must be a string when its encoding is base64");
  return OptionalBytes{compact_json(v)};
}

std::optional<std::string> parse_bytes_member(const Value& rec, size_t index, const char* name,
                                              const char* encoding_field, OptionalBytes* out) {
  bool base64 = false;
  if (auto err = wants_base64(rec, encoding_field, &base64))
    return where(index, encoding_field) + *err;
  if (!rec.HasMember(name)) return std::nullopt;
  auto bytes = bytes_of(rec[name], base64);
  if (auto* err = std::get_if<std::string>(&bytes)) return where(index, name) + *err;
  *out = std::get<OptionalBytes>(std::move(bytes));
  return std::nullopt;
}

std::optional<std::string> parse_header_list(const Value& list, size_t index, RecordHeaders* out) {
  for (const Value& h : list.GetArray()) {
    if (!h.IsObject() || !h.HasMember("key") || !h["key"].IsString())
      return where(index, "headers") + " entries need a string \"key\"";
    bool base64 = false;
    if (auto err = wants_base64(h, "encoding", &base64)) return where(index, "headers") + *err;
    OptionalBytes value;
    if (h.HasMember("value")) {
      auto bytes = bytes_of(h["value"], base64);
      if (auto* err = std::get_if<std::string>(&bytes)) return where(index, "headers") + *err;
      value = std::get<OptionalBytes>(std::move(bytes));
    }
    out->emplace_back(std::string(h["key"].GetString(), h["key"].GetStringLength()),
                      std::move(value));
  }
  return std::nullopt;
}

std::optional<std::string> parse_headers(const Value& rec, size_t index, RecordHeaders* out) {
  if (!rec.HasMember("headers") || rec["headers"].IsNull()) return std::nullopt;
  const Value& headers = rec["headers"];
  if (headers.IsArray()) return parse_header_list(headers, index, out);
  if (!headers.IsObject())
    return where(index, "headers") + " must be an array of {\"key\",\"value\"} or an object";
  for (auto m = headers.MemberBegin(); m != headers.MemberEnd(); ++m) {
    auto bytes = bytes_of(m->value, false);
    if (auto* err = std::get_if<std::string>(&bytes)) return where(index, "headers") + *err;
    out->emplace_back(std::string(m->name.GetString(), m->name.GetStringLength()),
                      std::get<OptionalBytes>(std::move(bytes)));
  }
  return std::nullopt;
}

std::optional<std::string> parse_record(const Value& rec, size_t index, ProduceRecord* out) {
  if (!rec.IsObject()) return "record " + std::to_string(index) + " must be an object";
  if (auto err = parse_bytes_member(rec, index, "key", "key_encoding", &out->key)) return err;
  if (auto err = parse_bytes_member(rec, index, "value", "value_encoding", &out->value)) return err;
  if (rec.HasMember("partition") && !rec["partition"].IsNull()) {
    const Value& p = rec["partition"];
    if (!p.IsInt() || p.GetInt() < 0)
      return where(index, "partition") + " must be a non-negative integer";
    out->partition = p.GetInt();
  }
  return parse_headers(rec, index, &out->headers);
}

}  // namespace

std::variant<std::vector<ProduceRecord>, ProduceParseError> parse_produce_records(
    std::string_view body) {
  if (!json_depth_within(body))
    return ProduceParseError{"the body nests arrays and objects deeper than " +
                             std::to_string(kMaxJsonDepth) + " levels"};
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(body.data(),
                                                                                    body.size());
  if (doc.HasParseError())
    return ProduceParseError{std::string("invalid JSON at byte ") +
                             std::to_string(doc.GetErrorOffset()) + ": " +
                             rapidjson::GetParseError_En(doc.GetParseError())};
  if (!doc.IsObject() || !doc.HasMember("records") || !doc["records"].IsArray())
    return ProduceParseError{"the body must be an object with a \"records\" array"};
  const Value& records = doc["records"];
  if (records.Empty()) return ProduceParseError{"\"records\" is empty"};
  if (records.Size() > kMaxProduceRecords)
    return ProduceParseError{"at most " + std::to_string(kMaxProduceRecords) +
                             " records per request"};
  std::vector<ProduceRecord> out(records.Size());
  for (rapidjson::SizeType i = 0; i < records.Size(); ++i) {
    if (auto err = parse_record(records[i], i, &out[i])) return ProduceParseError{*err};
  }
  return out;
}

}  // namespace dmq::rest
