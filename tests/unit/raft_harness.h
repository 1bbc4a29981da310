#pragma once
// A tiny synchronous cluster for Raft scenario tests: every node has a
// MemoryStorage; Ready batches are persisted, then their messages are queued
// on a network that tests can inspect, filter or deliver.

#include <doctest/doctest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/raft.h"

namespace dmq::raft::test {

inline NodeId N(uint64_t v) {
  return NodeId{v};
}
inline LogIndex I(uint64_t v) {
  return LogIndex{v};
}
inline Term T(uint64_t v) {
  return Term{v};
}

inline Config test_config(uint64_t id) {
  Config c;
  c.id = NodeId{id};
  c.election_tick = 10;
  c.heartbeat_tick = 1;
  c.seed = 42;
  return c;
}

struct TestNode {
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<Node> node;
  std::vector<Entry> applied;
  std::vector<ReadState> reads;
  Snapshot installed;
};

class Cluster {
 public:
  // Bootstraps nodes 1..n with voters 1..n.
  explicit Cluster(size_t n, std::function<void(Config&)> tweak = {}) : tweak(std::move(tweak)) {
    std::vector<NodeId> voters;
    for (uint64_t i = 1; i <= n; ++i) voters.push_back(NodeId{i});
    for (uint64_t i = 1; i <= n; ++i) add_node(i, voters);
  }

  Cluster() = default;

  void add_node(uint64_t id, std::vector<NodeId> voters) {
    add_node(id, std::make_unique<MemoryStorage>(std::move(voters)));
  }

  void add_node(uint64_t id, std::unique_ptr<MemoryStorage> storage) {
    TestNode tn;
    tn.storage = std::move(storage);
    Config c = test_config(id);
    if (this->tweak) this->tweak(c);
    tn.node = std::make_unique<Node>(c, tn.storage.get());
    nodes_[id] = std::move(tn);
  }

  // Crash and restart from storage (everything persisted survives).
  void restart(uint64_t id) {
    TestNode& tn = nodes_.at(id);
    Config c = test_config(id);
    if (this->tweak) this->tweak(c);
    c.applied = tn.applied.empty() ? LogIndex{0} : tn.applied.back().index;
    tn.node = std::make_unique<Node>(c, tn.storage.get());
  }

  Node& node(uint64_t id) { return *nodes_.at(id).node; }
  TestNode& test_node(uint64_t id) { return nodes_.at(id); }
  MemoryStorage& storage(uint64_t id) { return *nodes_.at(id).storage; }

  // Persists and applies every node's Ready; outgoing messages are queued.
  void process_readies() {
    for (auto& [id, tn] : nodes_) {
      if (down_.count(id)) continue;
      while (tn.node->has_ready()) {
        Ready rd = tn.node->ready();
        if (rd.snapshot) {
          tn.storage->apply_snapshot(*rd.snapshot);
          tn.installed = *rd.snapshot;
          tn.applied.clear();
        }
        tn.storage->append(rd.entries);
        if (rd.hard_state) tn.storage->set_hard_state(*rd.hard_state);
        for (Message& m : rd.messages) queue_.push_back(std::move(m));
        for (const Entry& e : rd.committed_entries) tn.applied.push_back(e);
        for (const ReadState& r : rd.read_states) tn.reads.push_back(r);
        tn.node->advance(rd);
      }
    }
  }

  // Delivers queued messages (and the ones they cause) until quiet. `drop`
  // returns true for messages to lose; it may also edit a message in transit.
  void deliver(size_t max_rounds = 1000) {
    for (size_t round = 0; round < max_rounds; ++round) {
      process_readies();
      if (queue_.empty()) return;
      std::deque<Message> batch;
      batch.swap(queue_);
      for (Message& m : batch) {
        if (down_.count(m.to.value) || down_.count(m.from.value) || !nodes_.count(m.to.value)) {
          continue;
        }
        if (drop && drop(m)) continue;
        ++delivered_[m.type];
        nodes_.at(m.to.value).node->step(m);
      }
    }
    FAIL("cluster did not go quiet");
  }

  // Takes the queued messages without delivering them.
  std::vector<Message> take_messages() {
    process_readies();
    std::vector<Message> out(queue_.begin(), queue_.end());
    queue_.clear();
    return out;
  }

  void tick(uint64_t id, int times = 1) {
    for (int i = 0; i < times; ++i) node(id).tick();
  }
  void tick_all(int times = 1) {
    for (int i = 0; i < times; ++i) {
      for (auto& [id, tn] : nodes_) {
        if (!down_.count(id)) tn.node->tick();
      }
      deliver();
    }
  }

  void elect(uint64_t id) {
    node(id).campaign();
    deliver();
    REQUIRE(node(id).role() == Role::kLeader);
  }

  void isolate(uint64_t id) { down_.insert(id); }
  void heal(uint64_t id) { down_.erase(id); }

  size_t delivered(MessageType t) const {
    auto it = delivered_.find(t);
    return it == delivered_.end() ? 0 : it->second;
  }

  std::function<bool(Message&)> drop;
  std::function<void(Config&)> tweak;  // applied to every node's Config

 private:
  std::map<uint64_t, TestNode> nodes_;
  std::deque<Message> queue_;
  std::set<uint64_t> down_;
  std::map<MessageType, size_t> delivered_;
};

inline std::vector<std::string> normal_data(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const Entry& e : entries) {
    if (e.type == EntryType::kNormal) out.push_back(e.data);
  }
  return out;
}

}  // namespace dmq::raft::test
