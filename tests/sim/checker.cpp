#include "checker.h"

#include <sstream>

namespace dmq::raft::sim {

uint64_t fnv1a(const std::string& data, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t entry_hash(const Entry& e) {
  uint64_t h = fnv1a(e.data);
  h ^= static_cast<uint64_t>(e.type) * 0x9e3779b97f4a7c15ULL;
  return h;
}

uint64_t chain_hash(uint64_t prev, const Entry& e) {
  std::string key = std::to_string(prev) + "/" + std::to_string(e.index.value) + "/" +
                    std::to_string(e.term.value) + "/" + std::to_string(entry_hash(e));
  return fnv1a(key);
}

void Checker::fail(std::string what) {
  if (violation_.empty()) violation_ = std::move(what);
}

void Checker::on_persist(NodeId node, const std::vector<Entry>& entries,
                         const MemoryStorage& storage) {
  for (const Entry& e : entries) {
    if (e.index < storage.first_index()) continue;  // below a snapshot: skipped
    EntryRecord rec{entry_hash(e), Term{0}, false};
    LogIndex prev = e.index.prev();
    if (prev >= storage.first_index().prev() && prev <= storage.last_index()) {
      rec.prev_term = storage.term(prev);
      rec.prev_known = true;
    }
    auto key = std::make_pair(e.index.value, e.term.value);
    auto [it, inserted] = entries_.emplace(key, rec);
    if (inserted) continue;
    std::ostringstream out;
    if (it->second.hash != rec.hash) {
      out << "log matching: node " << node.value << " persisted a different entry at index "
          << e.index.value << " term " << e.term.value;
      return fail(out.str());
    }
    if (rec.prev_known && it->second.prev_known && it->second.prev_term != rec.prev_term) {
      out << "log matching: node " << node.value << " has entry " << e.index.value << " term "
          << e.term.value << " after term " << rec.prev_term.value << ", another log after term "
          << it->second.prev_term.value;
      return fail(out.str());
    }
    if (rec.prev_known && !it->second.prev_known) it->second = rec;
  }
}

void Checker::on_apply(NodeId node, LogIndex expected_index, const Entry& e, uint64_t chain) {
  std::ostringstream out;
  if (e.index != expected_index) {
    out << "state machine: node " << node.value << " applied index " << e.index.value << " when "
        << expected_index.value << " was next";
    return fail(out.str());
  }
  auto [it, inserted] = applied_.emplace(e.index, std::make_pair(e.term, chain));
  if (!inserted && (it->second.first != e.term || it->second.second != chain)) {
    out << "state machine safety: node " << node.value << " applied index " << e.index.value
        << " term " << e.term.value << " but another node applied term " << it->second.first.value
        << " there (or a different history)";
    return fail(out.str());
  }
}

void Checker::on_install_snapshot(NodeId node, LogIndex index, uint64_t chain) {
  auto it = applied_.find(index);
  if (it == applied_.end()) {
    // Nobody applied it yet (possible only if the snapshot taker applied it
    // first, which it did): unreachable in practice; record it.
    applied_.emplace(index, std::make_pair(Term{0}, chain));
    return;
  }
  if (it->second.second != chain) {
    std::ostringstream out;
    out << "state machine safety: node " << node.value << " installed a snapshot at " << index.value
        << " whose history differs from what others applied";
    fail(out.str());
  }
}

void Checker::after_step(const std::vector<std::pair<const Node*, uint64_t>>& nodes) {
  for (const auto& [n, incarnation] : nodes) {
    NodeId id = n->id();
    Term term = n->term();
    Role role = n->role();
    LogIndex commit = n->commit_index();
    LogIndex applied = n->applied_index();
    NodeMemory& mem = memory_[id];
    bool same_life = mem.incarnation == incarnation;
    // Across a crash the term may go back to the last persisted one.
    if (same_life && term < mem.term) {
      return fail("node " + std::to_string(id.value) + " term went back from " +
                  std::to_string(mem.term.value) + " to " + std::to_string(term.value));
    }
    if (same_life && (commit < mem.commit || applied < mem.applied)) {
      return fail("node " + std::to_string(id.value) + " commit or applied index went back");
    }
    if (role == Role::kLeader) {
      auto [it, inserted] = leaders_.emplace(term, id);
      if (!inserted && it->second != id) {
        return fail("election safety: nodes " + std::to_string(it->second.value) + " and " +
                    std::to_string(id.value) + " both leaders in term " +
                    std::to_string(term.value));
      }
      if (mem.role != Role::kLeader || !same_life) check_leader_completeness(*n);
    }
    mem = NodeMemory{term, incarnation, commit, applied, role};
  }
}

void Checker::check_leader_completeness(const Node& n) {
  Status s = n.status();
  for (auto it = applied_.lower_bound(s.first_index.prev()); it != applied_.end(); ++it) {
    if (it->second.first == Term{0}) continue;  // known from a snapshot only
    std::optional<Term> t = n.term_at(it->first);
    if (!t || *t != it->second.first) {
      std::ostringstream out;
      out << "leader completeness: new leader " << s.id.value << " (term " << s.term.value
          << ") lacks applied entry " << it->first.value << " of term " << it->second.first.value;
      return fail(out.str());
    }
  }
}

void Checker::on_read_issued(NodeId node, const std::string& context, LogIndex acked_index) {
  reads_[context] = acked_index;
}

void Checker::on_read_state(NodeId node, const ReadState& rs) {
  auto it = reads_.find(rs.context);
  if (it == reads_.end()) return;
  if (rs.index < it->second) {
    std::ostringstream out;
    out << "linearizability: read " << rs.context << " on node " << node.value << " returned index "
        << rs.index.value << " below acknowledged write " << it->second.value;
    fail(out.str());
  }
  reads_.erase(it);
}

}  // namespace dmq::raft::sim
