#include "raft/codec.h"

namespace dmq::raft {
namespace {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void bytes(std::string_view s) {
    varint(s.size());
    out_.append(s.data(), s.size());
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }
  uint8_t u8() {
    if (!ok_ || pos_ >= in_.size()) return fail();
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!ok_ || pos_ >= in_.size()) return fail();
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) return fail();  // more than 64 bits
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return fail();
  }
  std::string bytes() {
    uint64_t n = varint();
    if (!ok_ || n > remaining()) {
      fail();
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  uint8_t fail() {
    ok_ = false;
    return 0;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void write_entry(Writer& w, const Entry& e) {
  w.varint(e.term.value);
  w.varint(e.index.value);
  w.u8(static_cast<uint8_t>(e.type));
  w.bytes(e.data);
}

bool read_entry(Reader& r, Entry& e) {
  e.term = Term{r.varint()};
  e.index = LogIndex{r.varint()};
  uint8_t type = r.u8();
  if (type > static_cast<uint8_t>(EntryType::kRemoveVoter)) return r.fail(), false;
  e.type = static_cast<EntryType>(type);
  e.data = r.bytes();
  return r.ok();
}

void write_meta(Writer& w, const SnapshotMeta& m) {
  w.varint(m.index.value);
  w.varint(m.term.value);
  w.varint(m.voters.size());
  for (NodeId v : m.voters) w.varint(v.value);
}

bool read_meta(Reader& r, SnapshotMeta& m) {
  m.index = LogIndex{r.varint()};
  m.term = Term{r.varint()};
  uint64_t n = r.varint();
  if (!r.ok() || n > r.remaining()) return r.fail(), false;  // each voter takes >= 1 byte
  m.voters.clear();
  for (uint64_t i = 0; i < n && r.ok(); ++i) m.voters.push_back(NodeId{r.varint()});
  return r.ok();
}

enum Flags : uint8_t { kReject = 1, kLeaderTransfer = 2, kSnapshotDone = 4 };

}  // namespace

std::string encode_message(const Message& m) {
  std::string out;
  Writer w(out);
  w.u8(kCodecVersion);
  w.u8(static_cast<uint8_t>(m.type));
  w.varint(m.from.value);
  w.varint(m.to.value);
  w.varint(m.term.value);
  w.varint(m.log_index.value);
  w.varint(m.log_term.value);
  w.varint(m.commit.value);
  w.u8(static_cast<uint8_t>((m.reject ? kReject : 0) | (m.leader_transfer ? kLeaderTransfer : 0) |
                            (m.snapshot_done ? kSnapshotDone : 0)));
  w.varint(m.index.value);
  w.varint(m.hint_index.value);
  w.varint(m.hint_term.value);
  w.varint(m.seq);
  w.varint(m.entries.size());
  for (const Entry& e : m.entries) write_entry(w, e);
  write_meta(w, m.snapshot_meta);
  w.varint(m.snapshot_offset);
  w.bytes(m.snapshot_data);
  return out;
}

std::optional<Message> decode_message(std::string_view bytes) {
  Reader r(bytes);
  Message m;
  if (r.u8() != kCodecVersion) return std::nullopt;
  uint8_t type = r.u8();
  if (type > static_cast<uint8_t>(MessageType::kTimeoutNow)) return std::nullopt;
  m.type = static_cast<MessageType>(type);
  m.from = NodeId{r.varint()};
  m.to = NodeId{r.varint()};
  m.term = Term{r.varint()};
  m.log_index = LogIndex{r.varint()};
  m.log_term = Term{r.varint()};
  m.commit = LogIndex{r.varint()};
  uint8_t flags = r.u8();
  if (flags & ~(kReject | kLeaderTransfer | kSnapshotDone)) return std::nullopt;
  m.reject = flags & kReject;
  m.leader_transfer = flags & kLeaderTransfer;
  m.snapshot_done = flags & kSnapshotDone;
  m.index = LogIndex{r.varint()};
  m.hint_index = LogIndex{r.varint()};
  m.hint_term = Term{r.varint()};
  m.seq = r.varint();
  uint64_t n = r.varint();
  if (!r.ok() || n > r.remaining() / 4) return std::nullopt;  // an entry takes >= 4 bytes
  m.entries.resize(n);
  for (Entry& e : m.entries) {
    if (!read_entry(r, e)) return std::nullopt;
  }
  if (!read_meta(r, m.snapshot_meta)) return std::nullopt;
  m.snapshot_offset = r.varint();
  m.snapshot_data = r.bytes();
  if (!r.done()) return std::nullopt;
  return m;
}

std::string encode_entry(const Entry& e) {
  std::string out;
  Writer w(out);
  w.u8(kCodecVersion);
  write_entry(w, e);
  return out;
}

std::optional<Entry> decode_entry(std::string_view bytes) {
  Reader r(bytes);
  Entry e;
  if (r.u8() != kCodecVersion || !read_entry(r, e) || !r.done()) return std::nullopt;
  return e;
}

std::string encode_hard_state(const HardState& hs) {
  std::string out;
  Writer w(out);
  w.u8(kCodecVersion);
  w.varint(hs.term.value);
  w.varint(hs.vote.value);
  w.varint(hs.commit.value);
  return out;
}

std::optional<HardState> decode_hard_state(std::string_view bytes) {
  Reader r(bytes);
  if (r.u8() != kCodecVersion) return std::nullopt;
  HardState hs;
  hs.term = Term{r.varint()};
  hs.vote = NodeId{r.varint()};
  hs.commit = LogIndex{r.varint()};
  if (!r.done()) return std::nullopt;
  return hs;
}

std::string encode_snapshot_meta(const SnapshotMeta& meta) {
  std::string out;
  Writer w(out);
  w.u8(kCodecVersion);
  write_meta(w, meta);
  return out;
}

std::optional<SnapshotMeta> decode_snapshot_meta(std::string_view bytes) {
  Reader r(bytes);
  SnapshotMeta meta;
  if (r.u8() != kCodecVersion || !read_meta(r, meta) || !r.done()) return std::nullopt;
  return meta;
}

}  // namespace dmq::raft
