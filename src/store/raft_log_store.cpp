#include "store/raft_log_store.h"

#include <stdexcept>

namespace dmq::store {
namespace {

void put_u64(std::string& out, uint64_t v) {
  out += be64_key(v);
}

bool get_u64(std::string_view& in, uint64_t* v) {
  if (in.size() < 8) return false;
  *v = decode_be64(in.substr(0, 8));
  in.remove_prefix(8);
  return true;
}

std::string encode_snapshot(const raft::Snapshot& s) {
  std::string out;
  put_u64(out, s.meta.index.value);
  put_u64(out, s.meta.term.value);
  put_u64(out, s.meta.voters.size());
  for (auto v : s.meta.voters) put_u64(out, v.value);
  out += s.data;
  return out;
}

std::optional<raft::Snapshot> decode_snapshot(std::string_view in) {
  raft::Snapshot s;
  uint64_t index = 0, term = 0, count = 0;
  if (!get_u64(in, &index) || !get_u64(in, &term) || !get_u64(in, &count)) return std::nullopt;
  if (count > in.size() / 8) return std::nullopt;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id = 0;
    get_u64(in, &id);
    s.meta.voters.push_back(raft::NodeId(id));
  }
  s.meta.index = raft::LogIndex(index);
  s.meta.term = raft::Term(term);
  s.data = std::string(in);
  return s;
}

std::string encode_voters(const std::vector<raft::NodeId>& voters) {
  std::string out;
  for (auto v : voters) put_u64(out, v.value);
  return out;
}

[[noreturn]] void corrupt(const std::string& what) {
  throw StoreError("raft log is corrupt: " + what, 0);
}

}  // namespace

std::string encode_entry(const raft::Entry& entry) {
  std::string out;
  out.reserve(9 + entry.data.size());
  put_u64(out, entry.term.value);
  out += static_cast<char>(entry.type);
  out += entry.data;
  return out;
}

std::optional<raft::Entry> decode_entry(raft::LogIndex index, std::string_view bytes) {
  uint64_t term = 0;
  if (!get_u64(bytes, &term) || bytes.empty()) return std::nullopt;
  auto type = static_cast<uint8_t>(bytes[0]);
  if (type > static_cast<uint8_t>(raft::EntryType::kRemoveVoter)) return std::nullopt;
  bytes.remove_prefix(1);
  return raft::Entry{raft::Term(term), index, static_cast<raft::EntryType>(type),
                     std::string(bytes)};
}

RaftLogStore::RaftLogStore(Env* env)
    : env_(env), log_db_(env->open_db("raft_log")), meta_db_(env->open_db("raft_meta")) {}

RaftDurableState RaftLogStore::load() {
  RaftDurableState state;
  env_->read([&](const ReadTxn& txn) {
    if (auto hs = txn.get(meta_db_, "hard_state")) {
      std::string_view in = *hs;
      uint64_t term = 0, vote = 0, commit = 0;
      if (!get_u64(in, &term) || !get_u64(in, &vote) || !get_u64(in, &commit)) {
        corrupt("hard state");
      }
      state.hard_state = {raft::Term(term), raft::NodeId(vote), raft::LogIndex(commit)};
    }
    if (auto snap = read_snapshot(txn)) state.snapshot = *snap;
    if (auto boot = txn.get(meta_db_, "bootstrap")) {
      state.bootstrapped = true;
      std::string_view in = *boot;
      uint64_t id = 0;
      while (get_u64(in, &id)) state.bootstrap_voters.push_back(raft::NodeId(id));
    }
    auto cursor = txn.cursor(log_db_);
    uint64_t expected = state.snapshot.meta.index.value + 1;
    for (bool ok = cursor.seek(be64_key(expected)); ok; ok = cursor.next()) {
      uint64_t index = decode_be64(cursor.key());
      if (index != expected) corrupt("gap before index " + std::to_string(index));
      auto entry = decode_entry(raft::LogIndex(index), cursor.value());
      if (!entry) corrupt("entry " + std::to_string(index));
      state.entries.push_back(std::move(*entry));
      ++expected;
    }
  });
  return state;
}

void RaftLogStore::set_bootstrap_voters_if_unset(WriteTxn& txn,
                                                 const std::vector<raft::NodeId>& voters) {
  if (!txn.get(meta_db_, "bootstrap")) txn.put(meta_db_, "bootstrap", encode_voters(voters));
}

void RaftLogStore::save_hard_state(WriteTxn& txn, const raft::HardState& hs) {
  std::string out;
  put_u64(out, hs.term.value);
  put_u64(out, hs.vote.value);
  put_u64(out, hs.commit.value);
  txn.put(meta_db_, "hard_state", out);
}

void RaftLogStore::append(WriteTxn& txn, const std::vector<raft::Entry>& entries) {
  if (entries.empty()) return;
  // Raft §5.3: a conflicting tail is replaced; delete everything from the
  // first new index so no stale entry survives past the new last index.
  std::vector<std::string> stale;
  {
    auto cursor = txn.cursor(log_db_);
    for (bool ok = cursor.seek(be64_key(entries.front().index.value)); ok; ok = cursor.next()) {
      stale.emplace_back(cursor.key());
    }
  }
  for (const auto& key : stale) txn.del(log_db_, key);
  for (const auto& entry : entries) {
    txn.put(log_db_, be64_key(entry.index.value), encode_entry(entry));
  }
}

void RaftLogStore::save_snapshot(WriteTxn& txn, const raft::Snapshot& snapshot,
                                 raft::LogIndex discard_through) {
  txn.put(meta_db_, "snapshot", encode_snapshot(snapshot));
  std::vector<std::string> doomed;
  {
    auto cursor = txn.cursor(log_db_);
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      if (decode_be64(cursor.key()) > discard_through.value) break;
      doomed.emplace_back(cursor.key());
    }
  }
  for (const auto& key : doomed) txn.del(log_db_, key);
}

std::vector<raft::Entry> RaftLogStore::read(const ReadTxn& txn, raft::LogIndex from,
                                            raft::LogIndex to, size_t max_bytes) {
  std::vector<raft::Entry> out;
  size_t bytes = 0;
  auto cursor = txn.cursor(log_db_);
  for (bool ok = cursor.seek(be64_key(from.value)); ok; ok = cursor.next()) {
    uint64_t index = decode_be64(cursor.key());
    if (index > to.value) break;
    if (!out.empty() && bytes + cursor.value().size() > max_bytes) break;
    auto entry = decode_entry(raft::LogIndex(index), cursor.value());
    if (!entry) corrupt("entry " + std::to_string(index));
    bytes += cursor.value().size();
    out.push_back(std::move(*entry));
  }
  return out;
}

std::optional<raft::Snapshot> RaftLogStore::read_snapshot(const ReadTxn& txn) {
  auto bytes = txn.get(meta_db_, "snapshot");
  if (!bytes) return std::nullopt;
  auto snap = decode_snapshot(*bytes);
  if (!snap) corrupt("snapshot");
  return snap;
}

std::vector<raft::Entry> RaftLogStore::read_committed(raft::LogIndex from, raft::LogIndex to,
                                                      size_t max_bytes, bool* snapshot_needed) {
  std::vector<raft::Entry> out;
  *snapshot_needed = false;
  env_->read([&](const ReadTxn& txn) {
    out = read(txn, from, to, max_bytes);
    if (out.empty() || out.front().index != from) {
      out.clear();
      *snapshot_needed = true;
    }
  });
  return out;
}

std::optional<raft::Snapshot> RaftLogStore::latest_snapshot() {
  std::optional<raft::Snapshot> out;
  env_->read([&](const ReadTxn& txn) { out = read_snapshot(txn); });
  return out;
}

void RaftLogStore::save_addresses(WriteTxn& txn, const std::string& encoded) {
  txn.put(meta_db_, "addresses", encoded);
}

std::string RaftLogStore::load_addresses() {
  std::string out;
  env_->read([&](const ReadTxn& txn) {
    if (auto value = txn.get(meta_db_, "addresses")) out = std::string(*value);
  });
  return out;
}

}  // namespace dmq::store
