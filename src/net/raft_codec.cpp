#include "net/raft_codec.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/base64.h"
#include "common/json_escape.h"

namespace dmq::net {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_u64(Writer& w, const char* key, uint64_t value) {
  if (value == 0) return;  // absent means zero
  w.Key(key);
  w.Uint64(value);
}

void write_message(Writer& w, const raft::Message& m) {
  w.StartObject();
  w.Key("type");
  w.Uint(static_cast<unsigned>(m.type));
  write_u64(w, "from", m.from.value);
  write_u64(w, "to", m.to.value);
  write_u64(w, "term", m.term.value);
  write_u64(w, "log_index", m.log_index.value);
  write_u64(w, "log_term", m.log_term.value);
  write_u64(w, "commit", m.commit.value);
  write_u64(w, "index", m.index.value);
  write_u64(w, "hint_index", m.hint_index.value);
  write_u64(w, "hint_term", m.hint_term.value);
  write_u64(w, "seq", m.seq);
  if (m.reject) {
    w.Key("reject");
    w.Bool(true);
  }
  if (m.leader_transfer) {
    w.Key("leader_transfer");
    w.Bool(true);
  }
  if (!m.entries.empty()) {
    w.Key("entries");
    w.StartArray();
    for (const auto& e : m.entries) {
      w.StartArray();
      w.Uint64(e.term.value);
      w.Uint64(e.index.value);
      w.Uint(static_cast<unsigned>(e.type));
      auto data = base64_encode(e.data);
      w.String(data.data(), data.size());
      w.EndArray();
    }
    w.EndArray();
  }
  if (m.type == raft::MessageType::kSnapshot || m.type == raft::MessageType::kSnapshotResponse) {
    w.Key("snapshot");
    w.StartObject();
    write_u64(w, "index", m.snapshot_meta.index.value);
    write_u64(w, "term", m.snapshot_meta.term.value);
    w.Key("voters");
    w.StartArray();
    for (auto v : m.snapshot_meta.voters) w.Uint64(v.value);
    w.EndArray();
    write_u64(w, "offset", m.snapshot_offset);
    if (!m.snapshot_data.empty()) {
      auto data = base64_encode(m.snapshot_data);
      w.Key("data");
      w.String(data.data(), data.size());
    }
    w.Key("done");
    w.Bool(m.snapshot_done);
    w.EndObject();
  }
  w.EndObject();
}

bool read_u64(const rapidjson::Value& obj, const char* key, uint64_t* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) {
    *out = 0;
    return true;
  }
  if (!it->value.IsUint64()) return false;
  *out = it->value.GetUint64();
  return true;
}

bool read_bool(const rapidjson::Value& obj, const char* key, bool* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) {
    *out = false;
    return true;
  }
  if (!it->value.IsBool()) return false;
  *out = it->value.GetBool();
  return true;
}

bool read_entries(const rapidjson::Value& obj, std::vector<raft::Entry>* out) {
  auto it = obj.FindMember("entries");
  if (it == obj.MemberEnd()) return true;
  if (!it->value.IsArray()) return false;
  for (const auto& e : it->value.GetArray()) {
    if (!e.IsArray() || e.Size() != 4 || !e[0].IsUint64() || !e[1].IsUint64() || !e[2].IsUint() ||
        !e[3].IsString() || e[2].GetUint() > static_cast<unsigned>(raft::EntryType::kRemoveVoter)) {
      return false;
    }
    auto data = base64_decode({e[3].GetString(), e[3].GetStringLength()});
    if (!data) return false;
    out->push_back(raft::Entry{raft::Term(e[0].GetUint64()), raft::LogIndex(e[1].GetUint64()),
                               static_cast<raft::EntryType>(e[2].GetUint()), std::move(*data)});
  }
  return true;
}

bool read_snapshot(const rapidjson::Value& obj, raft::Message* m) {
  auto it = obj.FindMember("snapshot");
  if (it == obj.MemberEnd()) return true;
  const auto& s = it->value;
  if (!s.IsObject()) return false;
  uint64_t index = 0, term = 0;
  if (!read_u64(s, "index", &index) || !read_u64(s, "term", &term) ||
      !read_u64(s, "offset", &m->snapshot_offset) || !read_bool(s, "done", &m->snapshot_done)) {
    return false;
  }
  m->snapshot_meta.index = raft::LogIndex(index);
  m->snapshot_meta.term = raft::Term(term);
  auto voters = s.FindMember("voters");
  if (voters != s.MemberEnd()) {
    if (!voters->value.IsArray()) return false;
    for (const auto& v : voters->value.GetArray()) {
      if (!v.IsUint64()) return false;
      m->snapshot_meta.voters.push_back(raft::NodeId(v.GetUint64()));
    }
  }
  auto data = s.FindMember("data");
  if (data != s.MemberEnd()) {
    if (!data->value.IsString()) return false;
    auto bytes = base64_decode({data->value.GetString(), data->value.GetStringLength()});
    if (!bytes) return false;
    m->snapshot_data = std::move(*bytes);
  }
  return true;
}

bool read_message(const rapidjson::Value& obj, raft::Message* m) {
  if (!obj.IsObject()) return false;
  auto type = obj.FindMember("type");
  if (type == obj.MemberEnd() || !type->value.IsUint() ||
      type->value.GetUint() > static_cast<unsigned>(raft::MessageType::kTimeoutNow)) {
    return false;
  }
  m->type = static_cast<raft::MessageType>(type->value.GetUint());
  uint64_t from, to, term, log_index, log_term, commit, index, hint_index, hint_term;
  bool ok = read_u64(obj, "from", &from) && read_u64(obj, "to", &to) &&
            read_u64(obj, "term", &term) && read_u64(obj, "log_index", &log_index) &&
            read_u64(obj, "log_term", &log_term) && read_u64(obj, "commit", &commit) &&
            read_u64(obj, "index", &index) && read_u64(obj, "hint_index", &hint_index) &&
            read_u64(obj, "hint_term", &hint_term) && read_u64(obj, "seq", &m->seq) &&
            read_bool(obj, "reject", &m->reject) &&
            read_bool(obj, "leader_transfer", &m->leader_transfer) &&
            read_entries(obj, &m->entries) && read_snapshot(obj, m);
  if (!ok) return false;
  m->from = raft::NodeId(from);
  m->to = raft::NodeId(to);
  m->term = raft::Term(term);
  m->log_index = raft::LogIndex(log_index);
  m->log_term = raft::Term(log_term);
  m->commit = raft::LogIndex(commit);
  m->index = raft::LogIndex(index);
  m->hint_index = raft::LogIndex(hint_index);
  m->hint_term = raft::Term(hint_term);
  return true;
}

}  // namespace

std::string encode_raft_messages(const std::vector<raft::Message>& messages) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("messages");
  w.StartArray();
  for (const auto& m : messages) write_message(w, m);
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<std::vector<raft::Message>> decode_raft_messages(const std::string& body,
                                                               std::string* error) {
  if (!json_depth_within(body)) {
    *error = "body nests too deeply";
    return std::nullopt;
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    *error = "body is not a JSON object";
    return std::nullopt;
  }
  auto list = doc.FindMember("messages");
  if (list == doc.MemberEnd() || !list->value.IsArray()) {
    *error = "\"messages\" must be an array";
    return std::nullopt;
  }
  std::vector<raft::Message> out;
  out.reserve(list->value.Size());
  for (const auto& item : list->value.GetArray()) {
    raft::Message m;
    if (!read_message(item, &m)) {
      *error = "message " + std::to_string(out.size()) + " is malformed";
      return std::nullopt;
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace dmq::net
