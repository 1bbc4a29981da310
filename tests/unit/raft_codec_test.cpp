// Wire and storage encodings: round trips, and untrusted input never crashes.

#include <doctest/doctest.h>

#include "raft/codec.h"
#include "raft/rng.h"
#include "raft_harness.h"

using namespace dmq::raft;
using namespace dmq::raft::test;

namespace {

Message sample_message() {
  Message m;
  m.type = MessageType::kSnapshot;
  m.from = N(3);
  m.to = N(70000);
  m.term = T(1ULL << 40);
  m.log_index = I(12);
  m.log_term = T(11);
  m.commit = I(10);
  m.reject = true;
  m.leader_transfer = true;
  m.snapshot_done = true;
  m.index = I(9);
  m.hint_index = I(4);
  m.hint_term = T(2);
  m.seq = ~0ULL;
  m.entries = {Entry{T(11), I(13), EntryType::kNormal, std::string("a\0b", 3)},
               Entry{T(11), I(14), EntryType::kAddVoter, "5"}};
  m.snapshot_meta = SnapshotMeta{I(8), T(7), {N(1), N(2), N(5)}};
  m.snapshot_offset = 4096;
  m.snapshot_data = std::string(300, 'z');
  return m;
}

}  // namespace

TEST_CASE("codec: a message survives a round trip field by field") {
  Message m = sample_message();
  std::optional<Message> d = decode_message(encode_message(m));
  REQUIRE(d.has_value());
  CHECK(d->type == m.type);
  CHECK(d->from == m.from);
  CHECK(d->to == m.to);
  CHECK(d->term == m.term);
  CHECK(d->log_index == m.log_index);
  CHECK(d->log_term == m.log_term);
  CHECK(d->commit == m.commit);
  CHECK(d->reject);
  CHECK(d->leader_transfer);
  CHECK(d->snapshot_done);
  CHECK(d->index == m.index);
  CHECK(d->hint_index == m.hint_index);
  CHECK(d->hint_term == m.hint_term);
  CHECK(d->seq == m.seq);
  CHECK(d->entries == m.entries);
  CHECK(d->snapshot_meta == m.snapshot_meta);
  CHECK(d->snapshot_offset == m.snapshot_offset);
  CHECK(d->snapshot_data == m.snapshot_data);
}

TEST_CASE("codec: storage records round trip") {
  Entry e{T(4), I(99), EntryType::kRemoveVoter, "12"};
  CHECK(decode_entry(encode_entry(e)) == e);
  HardState hs{T(9), N(2), I(77)};
  CHECK(decode_hard_state(encode_hard_state(hs)) == hs);
  SnapshotMeta meta{I(50), T(3), {N(1), N(4)}};
  CHECK(decode_snapshot_meta(encode_snapshot_meta(meta)) == meta);
}

TEST_CASE("codec: every truncation and any trailing byte is refused") {
  std::string bytes = encode_message(sample_message());
  for (size_t n = 0; n < bytes.size(); ++n) {
    CHECK_FALSE(decode_message(std::string_view(bytes).substr(0, n)).has_value());
  }
  CHECK_FALSE(decode_message(bytes + "x").has_value());
  std::string hs = encode_hard_state(HardState{T(1), N(1), I(1)});
  CHECK_FALSE(decode_hard_state(hs.substr(0, hs.size() - 1)).has_value());
}

TEST_CASE("codec: unknown versions and enum values are refused") {
  std::string bytes = encode_message(sample_message());
  std::string bad_version = bytes;
  bad_version[0] = 2;
  CHECK_FALSE(decode_message(bad_version).has_value());
  std::string bad_type = bytes;
  bad_type[1] = 11;
  CHECK_FALSE(decode_message(bad_type).has_value());
  std::string entry = encode_entry(Entry{T(1), I(1), EntryType::kNormal, ""});
  entry[3] = 4;  // entry type
  CHECK_FALSE(decode_entry(entry).has_value());
}

TEST_CASE("codec: random and mutated bytes never crash the decoder") {
  Rng rng(7);
  std::string valid = encode_message(sample_message());
  size_t decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string b;
    if (i % 2 == 0) {
      b.resize(rng.below(64));
      for (char& c : b) c = static_cast<char>(rng.next());
      if (!b.empty()) b[0] = static_cast<char>(kCodecVersion);
    } else {
      b = valid;
      for (int k = 0; k < 3; ++k) b[rng.below(b.size())] = static_cast<char>(rng.next());
    }
    decoded += decode_message(b).has_value();
    decode_entry(b);
    decode_snapshot_meta(b);
  }
  CHECK(decoded < 20000);  // most garbage is refused (and nothing crashed)
}
