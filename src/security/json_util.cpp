#include "security/json_util.h"

#include <set>
#include <vector>

#include "common/json_escape.h"

namespace dmq::security {
namespace {

// Iterative walk: every object in the tree has unique member names.
bool names_unique(const rapidjson::Value& root) {
  std::vector<const rapidjson::Value*> pending{&root};
  while (!pending.empty()) {
    const rapidjson::Value* v = pending.back();
    pending.pop_back();
    if (v->IsObject()) {
      std::set<std::string_view> names;
      for (auto& m : v->GetObject()) {
        if (!names.emplace(m.name.GetString(), m.name.GetStringLength()).second) return false;
        pending.push_back(&m.value);
      }
    } else if (v->IsArray()) {
      for (auto& e : v->GetArray()) pending.push_back(&e);
    }
  }
  return true;
}

}  // namespace

Status parse_json_object(std::string_view text, std::string_view what, rapidjson::Document& doc) {
  constexpr unsigned kFlags =
      rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  if (!json_depth_within(text)) {
    return make_error(ErrorCode::kMalformed, std::string(what) + " nests too deeply");
  }
  doc.Parse<kFlags>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return make_error(ErrorCode::kMalformed, std::string(what) + " is not a JSON object");
  }
  if (!names_unique(doc)) {
    return make_error(ErrorCode::kMalformed, std::string(what) + " repeats a member name");
  }
  return Ok{};
}

std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string_view(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace dmq::security
