#include "quota/quota_json.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

namespace dmq::quota {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_entity(Writer& w, const Entity& entity) {
  w.StartObject();
  for (const auto& [type, name] : entity) {
    w.Key(type.data(), static_cast<rapidjson::SizeType>(type.size()));
    if (name)
      w.String(name->data(), static_cast<rapidjson::SizeType>(name->size()));
    else
      w.Null();
  }
  w.EndObject();
}

std::optional<std::string> parse_entity(const rapidjson::Value& v, Entity& entity) {
  if (!v.IsObject()) return "\"entity\" must be an object of user and/or client-id";
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    std::string type(it->name.GetString(), it->name.GetStringLength());
    if (entity.count(type)) return "entity type '" + type + "' given twice";
    if (it->value.IsNull()) {
      entity[type] = std::nullopt;
    } else if (it->value.IsString()) {
      entity[type] = std::string(it->value.GetString(), it->value.GetStringLength());
    } else {
      return "entity '" + type + "' must be a name or null (the default)";
    }
  }
  return validate_entity(entity);
}

std::optional<std::string> parse_op(const rapidjson::Value& v, QuotaOp& op) {
  if (!v.IsObject()) return "each op must be an object";
  auto key = v.FindMember("key");
  if (key == v.MemberEnd() || !key->value.IsString()) return "each op needs a string \"key\"";
  op.key.assign(key->value.GetString(), key->value.GetStringLength());
  auto remove = v.FindMember("remove");
  auto value = v.FindMember("value");
  if (remove != v.MemberEnd() && !remove->value.IsBool()) return "\"remove\" must be a boolean";
  const bool removing = remove != v.MemberEnd() && remove->value.GetBool();
  if (removing) {
    if (value != v.MemberEnd()) return "op '" + op.key + "': \"value\" and \"remove\" together";
    return std::nullopt;
  }
  if (value == v.MemberEnd() || !value->value.IsNumber())
    return "op '" + op.key + "' needs a number \"value\" or \"remove\":true";
  op.value = value->value.GetDouble();
  return std::nullopt;
}

}  // namespace

std::optional<std::string> validate_alteration(const Alteration& a) {
  if (auto why = validate_entity(a.entity)) return why;
  std::set<std::string, std::less<>> seen;
  for (const QuotaOp& op : a.ops) {
    if (!seen.insert(op.key).second) return "quota key '" + op.key + "' given twice";
    if (op.value) {
      if (auto why = validate_quota(op.key, *op.value)) return why;
    } else if (!kind_of_key(op.key)) {
      return "unknown quota key '" + op.key +
             "' (producer_byte_rate, consumer_byte_rate or request_percentage)";
    }
  }
  return std::nullopt;
}

std::variant<Alteration, std::string> parse_alteration(std::string_view body) {
  rapidjson::Document doc;
  // Not kParseFullPrecisionFlag: Debian's RapidJSON crashes on some long
  // numbers with it (found by tests/fuzz/quota_fuzz.cpp); the default
  // parse is exact for whole numbers below 2^53 and within an ulp otherwise.
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::string("the body must be a JSON object");
  Alteration a;
  auto entity = doc.FindMember("entity");
  if (entity == doc.MemberEnd()) return std::string("\"entity\" is required");
  if (auto why = parse_entity(entity->value, a.entity)) return *why;
  auto ops = doc.FindMember("ops");
  if (ops == doc.MemberEnd() || !ops->value.IsArray() || ops->value.Empty())
    return std::string("\"ops\" must be a non-empty array");
  for (const auto& v : ops->value.GetArray()) {
    QuotaOp op;
    if (auto why = parse_op(v, op)) return *why;
    a.ops.push_back(std::move(op));
  }
  auto validate = doc.FindMember("validate_only");
  if (validate != doc.MemberEnd()) {
    if (!validate->value.IsBool()) return std::string("\"validate_only\" must be a boolean");
    a.validate_only = validate->value.GetBool();
  }
  if (auto why = validate_alteration(a)) return *why;
  return a;
}

std::string alteration_to_json(const Alteration& a) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("entity");
  write_entity(w, a.entity);
  w.Key("ops");
  w.StartArray();
  for (const QuotaOp& op : a.ops) {
    w.StartObject();
    w.Key("key");
    w.String(op.key.data(), static_cast<rapidjson::SizeType>(op.key.size()));
    if (op.value) {
      w.Key("value");
      w.Double(*op.value);
    } else {
      w.Key("remove");
      w.Bool(true);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("validate_only");
  w.Bool(a.validate_only);
  w.EndObject();
  return buf.GetString();
}

std::string entity_to_json(const Entity& entity) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  write_entity(w, entity);
  return buf.GetString();
}

std::string quota_entry_json(const Entity& entity,
                             const std::map<std::string, double, std::less<>>& values) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("entity");
  write_entity(w, entity);
  w.Key("values");
  w.StartObject();
  for (const auto& [key, value] : values) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.Double(value);
  }
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

}  // namespace dmq::quota
