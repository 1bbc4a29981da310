// ACL bindings to and from the REST field form and the binary record form.
#include "common/big_endian.h"
#include "common/json_escape.h"
#include "security/acl.h"
#include "security/json_util.h"

namespace dmq::security {
namespace {

constexpr uint8_t kRecordVersion = 1;
constexpr std::string_view kFieldNames[] = {"principal",      "host",         "resource_type",
                                            "resource_name",  "pattern_type", "operation",
                                            "permission_type"};

Error invalid(std::string what) {
  return make_error(ErrorCode::kInvalidAcl, std::move(what));
}

Status check_field_names(const AclFields& fields) {
  for (const auto& [name, value] : fields) {
    bool known = false;
    for (std::string_view n : kFieldNames) known = known || n == name;
    if (!known) return invalid("unknown ACL field");
  }
  return Ok{};
}

std::optional<std::string> get(const AclFields& fields, std::string_view name) {
  auto it = fields.find(name);
  if (it == fields.end()) return std::nullopt;
  return it->second;
}

// Parses field `name` with `parse` into `out` when present; an error names the field.
template <typename E, typename Parse>
Status read_enum(const AclFields& fields, std::string_view name, Parse parse, E& out) {
  auto text = get(fields, name);
  if (!text) return Ok{};
  auto v = parse(*text);
  if (!v) return invalid("unknown " + std::string(name) + " value");
  out = *v;
  return Ok{};
}

// Reads the four enum fields; what is absent keeps the value `out` had.
template <typename T>
Status read_enums(const AclFields& fields, T& out) {
  Status s = check_field_names(fields);
  if (s) s = read_enum(fields, "resource_type", parse_resource_type, out.resource_type);
  if (s) s = read_enum(fields, "pattern_type", parse_pattern_type, out.pattern_type);
  if (s) s = read_enum(fields, "operation", parse_acl_operation, out.operation);
  if (s) s = read_enum(fields, "permission_type", parse_permission_type, out.permission);
  return s;
}

void put_string(BigEndianWriter& w, std::string_view s) {
  w.u16(static_cast<uint16_t>(s.size()));
  w.raw(s);
}

void append_member(std::string& out, std::string_view name, std::string_view value) {
  if (out.size() > 1) out += ',';
  out += '"';
  out += name;
  out += "\":\"";
  append_json_escaped(out, value);
  out += '"';
}

}  // namespace

Result<AclBinding> acl_binding_from_fields(const AclFields& fields) {
  for (std::string_view required :
       {"principal", "resource_type", "resource_name", "operation", "permission_type"}) {
    if (!get(fields, required)) return invalid("missing ACL field " + std::string(required));
  }
  AclBinding b;
  if (auto s = read_enums(fields, b); !s) return s.error();
  b.principal = *get(fields, "principal");
  b.resource_name = *get(fields, "resource_name");
  b.host = get(fields, "host").value_or(std::string(kWildcardHost));
  if (auto s = validate_acl_binding(b); !s) return s.error();
  return b;
}

Result<AclBindingFilter> acl_filter_from_fields(const AclFields& fields) {
  AclBindingFilter f;
  if (auto s = read_enums(fields, f); !s) return s.error();
  f.principal = get(fields, "principal");
  f.host = get(fields, "host");
  f.resource_name = get(fields, "resource_name");
  if (auto s = validate_acl_filter(f); !s) return s.error();
  return f;
}

Result<AclFields> acl_fields_from_json(std::string_view json) {
  rapidjson::Document doc;
  if (auto s = parse_json_object(json, "ACL body", doc); !s) return s.error();
  AclFields fields;
  for (const auto& m : doc.GetObject()) {
    if (!m.value.IsString()) {
      return make_error(ErrorCode::kMalformed, "ACL fields must be JSON strings");
    }
    fields.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                   std::string(m.value.GetString(), m.value.GetStringLength()));
  }
  return fields;
}

std::string acl_binding_to_json(const AclBinding& b) {
  std::string out = "{";
  append_member(out, "principal", b.principal);
  append_member(out, "host", b.host);
  append_member(out, "resource_type", resource_type_name(b.resource_type));
  append_member(out, "resource_name", b.resource_name);
  append_member(out, "pattern_type", pattern_type_name(b.pattern_type));
  append_member(out, "operation", acl_operation_name(b.operation));
  append_member(out, "permission_type", permission_type_name(b.permission));
  out += '}';
  return out;
}

std::string acl_bindings_to_json(std::string_view key, const std::vector<AclBinding>& bindings) {
  std::string out = "{\"";
  append_json_escaped(out, key);
  out += "\":[";
  for (size_t i = 0; i < bindings.size(); ++i) {
    if (i > 0) out += ',';
    out += acl_binding_to_json(bindings[i]);
  }
  out += "]}";
  return out;
}

Result<std::vector<AclBinding>> acl_bindings_from_json(std::string_view json,
                                                       std::string_view key) {
  rapidjson::Document doc;
  if (auto s = parse_json_object(json, "ACL list", doc); !s) return s.error();
  auto list = doc.FindMember(rapidjson::StringRef(key.data(), key.size()));
  if (list == doc.MemberEnd() || !list->value.IsArray()) {
    return make_error(ErrorCode::kMalformed, "ACL list: no array member");
  }
  std::vector<AclBinding> out;
  for (const auto& item : list->value.GetArray()) {
    if (!item.IsObject()) return make_error(ErrorCode::kMalformed, "ACL list: not an object");
    AclFields fields;
    for (const auto& m : item.GetObject()) {
      if (!m.value.IsString()) return make_error(ErrorCode::kMalformed, "ACL list: not a string");
      fields.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                     std::string(m.value.GetString(), m.value.GetStringLength()));
    }
    auto binding = acl_binding_from_fields(fields);
    if (!binding) return binding.error();
    out.push_back(std::move(binding).value());
  }
  return out;
}

std::string encode_acl_binding(const AclBinding& b) {
  DMQ_ASSERT(validate_acl_binding(b).ok());
  BigEndianWriter w;
  w.u8(kRecordVersion);
  w.u8(static_cast<uint8_t>(b.resource_type));
  w.u8(static_cast<uint8_t>(b.pattern_type));
  w.u8(static_cast<uint8_t>(b.operation));
  w.u8(static_cast<uint8_t>(b.permission));
  put_string(w, b.resource_name);
  put_string(w, b.principal);
  put_string(w, b.host);
  return w.take();
}

Result<AclBinding> decode_acl_binding(std::string_view bytes) {
  BigEndianReader r(bytes);
  AclBinding b;
  uint8_t version = r.u8();
  b.resource_type = static_cast<ResourceType>(r.u8());
  b.pattern_type = static_cast<PatternType>(r.u8());
  b.operation = static_cast<AclOperation>(r.u8());
  b.permission = static_cast<AclPermissionType>(r.u8());
  b.resource_name = std::string(r.raw(r.u16()));
  b.principal = std::string(r.raw(r.u16()));
  b.host = std::string(r.raw(r.u16()));
  // Out-of-range enum bytes fail validation: every valid value has a name.
  bool names_known = resource_type_name(b.resource_type) != "UNKNOWN" &&
                     acl_operation_name(b.operation) != "UNKNOWN" &&
                     permission_type_name(b.permission) != "UNKNOWN";
  if (!r.done() || version != kRecordVersion || !names_known || !validate_acl_binding(b)) {
    return make_error(ErrorCode::kMalformed, "malformed ACL record");
  }
  return b;
}

}  // namespace dmq::security
