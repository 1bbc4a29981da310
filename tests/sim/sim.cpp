#include "sim.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <sstream>
#include <vector>

#include "checker.h"
#include "raft/codec.h"
#include "raft/raft.h"

namespace dmq::raft::sim {
namespace {

class Rand {
 public:
  explicit Rand(uint64_t seed) : state_(seed * 0x2545f4914f6cdd1dULL + 7) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

 private:
  uint64_t state_;
};

struct InFlight {
  int64_t time;
  uint64_t seq;
  Message m;
  bool operator>(const InFlight& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

struct SimNode {
  uint64_t id = 0;
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<Node> node;
  bool alive = false;
  uint64_t incarnation = 0;
  int64_t restart_at = -1;
  int64_t crash_at = -1;
  int tick_period = 10;
  int64_t next_tick = 0;
  std::optional<Ready> pending;  // taken from the node, not yet persisted
  int64_t persist_at = 0;
  // The application's durable state: history hash through sm_index.
  LogIndex sm_index;
  uint64_t sm_hash = 0;
};

struct Proposal {
  uint64_t incarnation;
  Term term;
};

std::string encode_image(LogIndex index, uint64_t hash) {
  return std::to_string(index.value) + ":" + std::to_string(hash);
}

bool decode_image(const std::string& data, LogIndex& index, uint64_t& hash) {
  size_t colon = data.find(':');
  if (colon == std::string::npos) return false;
  index = LogIndex{std::stoull(data.substr(0, colon))};
  hash = std::stoull(data.substr(colon + 1));
  return true;
}

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : opt_(o), rand_(o.seed) {}
  SimResult run();

 private:
  void log(int64_t now, const std::string& what) {
    if (opt_.verbose) std::printf("[t=%6lld] %s\n", static_cast<long long>(now), what.c_str());
  }
  Config config_for(const SimNode& n) const;
  void start(SimNode& n, int64_t now);
  void crash(SimNode& n, int64_t now);
  void pump(SimNode& n, int64_t now);
  void complete_persist(SimNode& n, int64_t now);
  void send_all(const std::vector<Message>& msgs, int64_t now);
  void apply(SimNode& n, const Ready& rd);
  void check(int64_t now);
  bool link_up(uint64_t from, uint64_t to) const { return !blocked_.count({from, to}); }
  void run_events(int64_t now);
  void chaos(int64_t now);
  void change_partition(int64_t now);
  void client(int64_t now);
  void change_membership(SimNode& leader, int64_t now);
  void take_snapshot(SimNode& n, int64_t now);
  SimNode* find_leader();
  void heal_network();
  bool healing_phase(int64_t start);
  void dump(int64_t now);

  SimOptions opt_;
  Rand rand_;
  Checker checker_;
  std::vector<SimNode> nodes_;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> net_;
  uint64_t seq_ = 0;
  std::set<std::pair<uint64_t, uint64_t>> blocked_;
  double drop_p_ = 0.02;
  double dup_p_ = 0.02;
  int max_delay_ = 4;
  std::map<std::pair<uint64_t, uint64_t>, Proposal> proposals_;  // (node, index)
  uint64_t next_client_id_ = 0;
  SimResult result_;
  std::set<uint64_t> terms_seen_;
  bool healing_ = false;
  std::map<std::pair<uint64_t, uint64_t>, int64_t> link_last_;
};

Config Simulation::config_for(const SimNode& n) const {
  Config c;
  c.id = NodeId{n.id};
  c.election_tick = 10;
  c.heartbeat_tick = 1;
  c.max_inflight = 8;
  // Per seed: from one entry per message to generous batches.
  static const size_t kBatchBytes[] = {1, 64, 256, 4096};
  c.max_entries_bytes = opt_.batch_bytes ? opt_.batch_bytes : kBatchBytes[opt_.seed % 4];
  c.snapshot_chunk_bytes = 8;  // several chunks per snapshot image
  c.seed = opt_.seed * 1000003 + n.id * 131 + n.incarnation;
  c.applied = n.sm_index;
  c.unsafe_commit_previous_term_by_counting = opt_.broken == Broken::kCommitPreviousTerm;
  return c;
}

void Simulation::start(SimNode& n, int64_t now) {
  ++n.incarnation;
  n.crash_at = -1;
  n.alive = true;
  n.restart_at = -1;
  n.pending.reset();
  n.node = std::make_unique<Node>(config_for(n), n.storage.get());
  n.next_tick = now + 1 + static_cast<int64_t>(rand_.below(n.tick_period));
  pump(n, now);
}

void Simulation::crash(SimNode& n, int64_t now) {
  // Whatever the node had not persisted is gone (its Ready in progress too).
  log(now,
      "crash node " + std::to_string(n.id) + (n.pending ? " (losing an unpersisted Ready)" : ""));
  n.alive = false;
  n.node.reset();
  n.pending.reset();
}

void Simulation::pump(SimNode& n, int64_t now) {
  if (!n.alive || n.pending || !n.node->has_ready()) return;
  n.pending = n.node->ready();
  n.persist_at = now + static_cast<int64_t>(rand_.below(4));
  if (opt_.broken == Broken::kSendBeforePersist) {
    // The bug under test: messages leave before the batch is durable.
    send_all(n.pending->messages, now);
    n.pending->messages.clear();
  }
}

void Simulation::send_all(const std::vector<Message>& msgs, int64_t now) {
  for (const Message& original : msgs) {
    // Every message crosses the wire encoding, as it will in production.
    std::optional<Message> decoded = decode_message(encode_message(original));
    if (!decoded) return checker_.fail("codec: a message did not survive encoding");
    const Message& m = *decoded;
    if (!link_up(m.from.value, m.to.value) || rand_.chance(drop_p_)) continue;
    int copies = rand_.chance(dup_p_) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      int64_t at = now + 1 + static_cast<int64_t>(rand_.below(max_delay_));
      if (healing_) {
        // The healed network behaves like one TCP connection per link: in order.
        int64_t& last = link_last_[{m.from.value, m.to.value}];
        at = std::max(at, last);
        last = at;
      }
      net_.push(InFlight{at, seq_++, m});
    }
  }
}

void Simulation::complete_persist(SimNode& n, int64_t now) {
  Ready rd = std::move(*n.pending);
  n.pending.reset();
  if (rd.snapshot) {
    n.storage->apply_snapshot(*rd.snapshot);
    if (!decode_image(rd.snapshot->data, n.sm_index, n.sm_hash)) {
      checker_.fail("snapshot image undecodable");
    }
    if (n.sm_index != rd.snapshot->meta.index) checker_.fail("snapshot image at wrong index");
    checker_.on_install_snapshot(NodeId{n.id}, n.sm_index, n.sm_hash);
    ++result_.snapshots_installed;
    log(now, "node " + std::to_string(n.id) + " installed snapshot at " +
                 std::to_string(n.sm_index.value));
  }
  n.storage->append(rd.entries);
  checker_.on_persist(NodeId{n.id}, rd.entries, *n.storage);
  if (rd.hard_state) n.storage->set_hard_state(*rd.hard_state);
  send_all(rd.messages, now);
  apply(n, rd);
  n.node->advance(rd);
}

void Simulation::apply(SimNode& n, const Ready& rd) {
  for (const Entry& e : rd.committed_entries) {
    uint64_t h = chain_hash(n.sm_hash, e);
    checker_.on_apply(NodeId{n.id}, n.sm_index.next(), e, h);
    n.sm_hash = h;
    n.sm_index = e.index;
    if (e.type == EntryType::kAddVoter || e.type == EntryType::kRemoveVoter) {
      ++result_.config_changes;
    }
    auto it = proposals_.find({n.id, e.index.value});
    if (it == proposals_.end()) continue;
    if (it->second.incarnation == n.incarnation && it->second.term == e.term) {
      // The write is acknowledged to its client now.
      ++result_.acked_writes;
      checker_.on_acked(e.index);
    }
    proposals_.erase(it);
  }
  for (const ReadState& rs : rd.read_states) {
    checker_.on_read_state(NodeId{n.id}, rs);
    ++result_.reads_served;
  }
}

void Simulation::check(int64_t now) {
  std::vector<std::pair<const Node*, uint64_t>> live;
  for (SimNode& n : nodes_) {
    if (!n.alive) continue;
    live.emplace_back(n.node.get(), n.incarnation);
    if (n.node->role() == Role::kLeader && terms_seen_.insert(n.node->term().value).second) {
      log(now, "node " + std::to_string(n.id) + " leads term " +
                   std::to_string(n.node->term().value) + " (last index " +
                   std::to_string(n.node->status().last_index.value) + ")");
      // Leaders that fail right after taking office make the hardest
      // schedules (Figure 8 of the Raft paper is one): aim some crashes there.
      if (!healing_ && n.crash_at < 0 && rand_.chance(opt_.early_leader_crash)) {
        n.crash_at = now + 1 + static_cast<int64_t>(rand_.below(30));
      }
    }
  }
  checker_.after_step(live);
}

void Simulation::run_events(int64_t now) {
  while (!net_.empty() && net_.top().time <= now && checker_.ok()) {
    InFlight f = net_.top();
    net_.pop();
    SimNode& to = nodes_[f.m.to.value - 1];
    if (!to.alive || !link_up(f.m.from.value, f.m.to.value)) continue;
    if (opt_.trace_messages) {
      const Message& m = f.m;
      std::ostringstream out;
      out << to_string(m.type) << " " << m.from.value << "->" << m.to.value << " term "
          << m.term.value << " log " << m.log_index.value << "/" << m.log_term.value << " entries "
          << m.entries.size() << " commit " << m.commit.value << (m.reject ? " reject" : "")
          << " index " << m.index.value << " hint " << m.hint_index.value << "/"
          << m.hint_term.value;
      log(now, out.str());
    }
    to.node->step(f.m);
    pump(to, now);
    check(now);
  }
  for (SimNode& n : nodes_) {
    if (!checker_.ok()) return;
    if (!n.alive && n.restart_at >= 0 && n.restart_at <= now) {
      log(now, "restart node " + std::to_string(n.id));
      start(n, now);
      check(now);
    }
    if (!n.alive) continue;
    if (n.crash_at >= 0 && n.crash_at <= now) {
      crash(n, now);
      n.crash_at = -1;
      n.restart_at = now + 20 + static_cast<int64_t>(rand_.below(200));
      continue;
    }
    if (n.next_tick <= now) {
      n.next_tick += n.tick_period;
      n.node->tick();
      pump(n, now);
      check(now);
    }
    if (n.pending && n.persist_at <= now) {
      complete_persist(n, now);
      pump(n, now);
      check(now);
    }
  }
}

SimNode* Simulation::find_leader() {
  SimNode* best = nullptr;
  for (SimNode& n : nodes_) {
    if (!n.alive || n.node->role() != Role::kLeader) continue;
    if (!best || n.node->term() > best->node->term()) best = &n;
  }
  return best;
}

void Simulation::change_partition(int64_t now) {
  blocked_.clear();
  uint64_t count = nodes_.size();
  switch (rand_.below(3)) {
    case 0: {  // symmetric split into two sides
      std::vector<bool> side(count);
      for (uint64_t i = 0; i < count; ++i) side[i] = rand_.chance(0.5);
      for (uint64_t a = 0; a < count; ++a) {
        for (uint64_t b = 0; b < count; ++b) {
          if (side[a] != side[b]) blocked_.insert({a + 1, b + 1});
        }
      }
      log(now, "partition: symmetric split");
      break;
    }
    case 1: {  // asymmetric: some one-way links fail
      uint64_t k = 1 + rand_.below(count);
      for (uint64_t i = 0; i < k; ++i) {
        uint64_t a = 1 + rand_.below(count);
        uint64_t b = 1 + rand_.below(count);
        if (a != b) blocked_.insert({a, b});
      }
      log(now, "partition: " + std::to_string(blocked_.size()) + " one-way links cut");
      break;
    }
    default:
      log(now, "partition healed");
      break;
  }
}

void Simulation::chaos(int64_t now) {
  double f = opt_.fault_scale;
  if (rand_.chance(0.002 * f)) {
    SimNode& n = nodes_[rand_.below(nodes_.size())];
    if (n.alive) {
      crash(n, now);
      n.restart_at = now + 20 + static_cast<int64_t>(rand_.below(static_cast<uint64_t>(500 / f)));
    }
  }
  if (rand_.chance(0.0015 * f)) change_partition(now);
  if (rand_.chance(0.001)) {
    static const double drops[] = {0.0, 0.02, 0.1, 0.3};
    static const double dups[] = {0.0, 0.02, 0.1};
    static const int delays[] = {2, 4, 12, 40};
    drop_p_ = drops[rand_.below(4)];
    dup_p_ = dups[rand_.below(3)];
    max_delay_ = delays[rand_.below(4)];
    log(now, "network: drop " + std::to_string(drop_p_) + " dup " + std::to_string(dup_p_) +
                 " max delay " + std::to_string(max_delay_));
  }
  if (rand_.chance(0.004)) {
    SimNode& n = nodes_[rand_.below(nodes_.size())];
    if (n.alive) take_snapshot(n, now);
  }
  SimNode* leader = find_leader();
  if (leader && rand_.chance(0.002)) change_membership(*leader, now);
  if (leader && rand_.chance(0.001)) {
    NodeId target{1 + rand_.below(nodes_.size())};
    ProposeError e = leader->node->transfer_leadership(target);
    log(now, "transfer " + std::to_string(leader->id) + " -> " + std::to_string(target.value) +
                 ": " + to_string(e));
  }
}

void Simulation::take_snapshot(SimNode& n, int64_t now) {
  Status s = n.node->status();
  if (s.applied != n.sm_index) return checker_.fail("simulator: applied index out of step");
  if (s.applied < s.first_index) return;  // nothing new to compact
  LogIndex at = s.applied;
  n.storage->create_snapshot(n.node->snapshot_meta(at), encode_image(n.sm_index, n.sm_hash));
  LogIndex keep{std::min<uint64_t>(at.value, rand_.below(6))};
  n.storage->compact(LogIndex{at.value - keep.value});
  log(now, "node " + std::to_string(n.id) + " snapshot at " + std::to_string(at.value));
}

void Simulation::change_membership(SimNode& leader, int64_t now) {
  std::vector<NodeId> voters = leader.node->status().voters;
  ProposeResult r;
  std::string what;
  if (voters.size() > static_cast<size_t>(opt_.nodes)) {
    NodeId victim = voters[rand_.below(voters.size())];
    r = leader.node->propose_remove_voter(victim);
    what = "remove " + std::to_string(victim.value);
  } else {
    std::vector<NodeId> spare;
    for (const SimNode& n : nodes_) {
      NodeId id{n.id};
      if (std::find(voters.begin(), voters.end(), id) == voters.end()) spare.push_back(id);
    }
    if (spare.empty()) return;
    NodeId add = spare[rand_.below(spare.size())];
    r = leader.node->propose_add_voter(add);
    what = "add " + std::to_string(add.value);
  }
  log(now, "leader " + std::to_string(leader.id) + " proposes " + what + ": " + to_string(r.error));
  pump(leader, now);
}

void Simulation::client(int64_t now) {
  SimNode* leader = find_leader();
  if (!leader) return;
  if (rand_.chance(0.06 * (healing_ ? 1.0 : opt_.fault_scale))) {
    std::string data = "w" + std::to_string(next_client_id_++);
    ProposeResult r = leader->node->propose(data);
    if (r.error == ProposeError::kOk) {
      proposals_[{leader->id, r.index.value}] = Proposal{leader->incarnation, r.term};
    }
    pump(*leader, now);
  }
  if (rand_.chance(0.01)) {
    std::string ctx = "r" + std::to_string(next_client_id_++);
    checker_.on_read_issued(NodeId{leader->id}, ctx, checker_.max_acked());
    leader->node->read_index(ctx);
    pump(*leader, now);
  }
}

void Simulation::heal_network() {
  blocked_.clear();
  drop_p_ = 0;
  dup_p_ = 0;
  max_delay_ = 3;
}

bool Simulation::healing_phase(int64_t start) {
  healing_ = true;
  heal_network();
  for (SimNode& n : nodes_) {
    // Every node restarts from what it persisted.
    if (n.alive) crash(n, start);
    n.restart_at = start;
  }
  // A leader must emerge within 10 election timeouts of the slowest clock.
  const int64_t leader_bound = 10 * 2 * 10 * 12;
  int64_t leader_seen = -1;
  for (int64_t now = start; now < start + opt_.heal_time && checker_.ok(); ++now) {
    run_events(now);
    if (leader_seen < 0 && find_leader()) {
      leader_seen = now;
      log(now, "leader after healing: node " + std::to_string(find_leader()->id));
    }
    if (leader_seen < 0 && now - start > leader_bound) {
      checker_.fail("liveness: no leader within " + std::to_string(leader_bound) +
                    " time units of healing");
      return false;
    }
    if (now < start + opt_.heal_time / 2) client(now);
  }
  if (!checker_.ok()) return false;
  SimNode* leader = find_leader();
  if (!leader) {
    checker_.fail("liveness: no leader at the end of healing");
    return false;
  }
  if (opt_.verbose) dump(start + opt_.heal_time);
  for (const PeerStatus& p : leader->node->status().peers) {
    // Crashes here lose only unpersisted state, so nobody loses acknowledged entries.
    if (p.lost_entries)
      checker_.fail("leader reports node " + std::to_string(p.id.value) +
                    " lost entries it had acknowledged");
  }
  for (NodeId v : leader->node->status().voters) {
    const SimNode& n = nodes_[v.value - 1];
    if (n.sm_index < checker_.max_acked()) {
      checker_.fail("liveness: voter " + std::to_string(v.value) + " applied only through " +
                    std::to_string(n.sm_index.value) + ", acknowledged writes reach " +
                    std::to_string(checker_.max_acked().value));
      return false;
    }
  }
  return true;
}

void Simulation::dump(int64_t now) {
  for (const SimNode& n : nodes_) {
    if (!n.alive) {
      log(now, "node " + std::to_string(n.id) + " down");
      continue;
    }
    Status s = n.node->status();
    std::ostringstream out;
    out << "node " << n.id << " " << to_string(s.role) << " term " << s.term.value << " leader "
        << s.leader.value << " first " << s.first_index.value << " last " << s.last_index.value
        << " commit " << s.commit.value << " applied " << s.applied.value
        << (n.pending ? " ready-pending@" + std::to_string(n.persist_at) : "")
        << (n.node->has_ready() ? " has-ready" : "") << " sm " << n.sm_index.value << " voters";
    for (NodeId v : s.voters) out << " " << v.value;
    for (const PeerStatus& p : s.peers) {
      out << " | peer " << p.id.value << " match " << p.match.value << " next " << p.next.value
          << " " << to_string(p.state) << (p.recent_active ? " active" : "");
    }
    log(now, out.str());
  }
}

SimResult Simulation::run() {
  size_t total = static_cast<size_t>(opt_.nodes) + 1;  // one spare joins later
  std::vector<NodeId> voters;
  for (int i = 1; i <= opt_.nodes; ++i) voters.push_back(NodeId{static_cast<uint64_t>(i)});
  nodes_.resize(total);
  for (size_t i = 0; i < total; ++i) {
    SimNode& n = nodes_[i];
    n.id = i + 1;
    bool spare = i >= static_cast<size_t>(opt_.nodes);
    n.storage = std::make_unique<MemoryStorage>(spare ? std::vector<NodeId>{} : voters);
    n.tick_period = 8 + static_cast<int>(rand_.below(5));  // uneven clocks
    start(n, 0);
  }
  for (int64_t now = 0; now < opt_.safety_time && checker_.ok(); ++now) {
    chaos(now);
    client(now);
    run_events(now);
  }
  if (checker_.ok()) healing_phase(opt_.safety_time);
  result_.ok = checker_.ok();
  result_.failure = checker_.violation();
  result_.elections = terms_seen_.size();
  return result_;
}

}  // namespace

SimResult run_simulation(const SimOptions& options) {
  Simulation sim(options);
  return sim.run();
}

}  // namespace dmq::raft::sim
