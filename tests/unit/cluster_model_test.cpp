// A seeded random workload against the controller decisions and the state
// machine: proposals are sometimes delayed (in flight while others commit), so
// stale ones reach apply. After every apply the image invariants must hold, and
// replaying the committed log into LMDB-backed stores, in any batching, must
// give byte-identical snapshots. A failure prints the seed.
#include <doctest/doctest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <random>

#include "cluster/broker_registry.h"
#include "cluster/election.h"
#include "cluster/metadata_store.h"
#include "cluster/placement.h"

using namespace dmq::cluster;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("dmq_cluster_model_" + std::to_string(::getpid()) + "_" +
            std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

constexpr int kBrokers = 5;
const char* kTopics[] = {"a", "b", "c", "d"};

struct Workload {
  explicit Workload(uint32_t seed) : rng(seed) {}
  std::mt19937 rng;
  MetadataState state;
  BrokerRegistry registry{BrokerRegistry::Options{9000, 2000, {}}};
  int64_t now = 0;
  std::deque<std::string> in_flight;
  std::vector<CommittedEntry> log;
  std::map<std::string, int> applied_ok;
  int incarnation = 0;

  uint32_t pick(uint32_t n) { return rng() % n; }
  BrokerId any_broker() { return BrokerId{1 + static_cast<int>(pick(kBrokers))}; }

  void commit_one() {
    std::string payload = std::move(in_flight.front());
    in_flight.pop_front();
    LogIndex index{log.size() + 1};
    Status s = state.apply_bytes(payload, index);
    if (s && !payload.empty()) {
      for (const Record& r : decode_batch(payload).value())
        ++applied_ok[std::string(record_name(r))];
    }
    log.push_back({index, std::move(payload)});
    Status inv = state.check_invariants();
    if (!inv) FAIL("invariant broken at index " << index.value << ": " << inv.error().message);
  }
  void propose(const RecordBatch& batch) {
    if (batch.empty()) return;
    in_flight.push_back(encode_batch(batch));
  }
  template <typename T>
  void propose(const Result<T>& r) {
    if (r.ok()) propose(RecordBatch{r.value()});
  }

  void step() {
    const BrokerRegistration* b = nullptr;
    BrokerId id = any_broker();
    b = state.find_broker(id);
    switch (pick(12)) {
      case 0: {
        std::string inc =
            pick(2) ? "inc-" + std::to_string(id.value) : "new-" + std::to_string(++incarnation);
        BrokerRegistrationRequest req{
            id, inc, "h", 9092, "h", 8080, pick(2) ? std::string(1, char('x' + id.value % 3)) : ""};
        Result<RecordBatch> r = registry.handle_register(state, req, now);
        if (r.ok()) propose(r.value());
        break;
      }
      case 1:
      case 2:
        if (b) {
          BrokerEpoch epoch = pick(8) ? b->epoch : BrokerEpoch{b->epoch.value - 1};
          Result<HeartbeatDecision> hb = registry.handle_heartbeat(
              state, id, epoch, LogIndex{state.applied_index().value - pick(3)}, now);
          if (hb.ok()) propose(hb.value().propose);
        }
        break;
      case 3:
        now += pick(5000);
        propose(registry.expired_brokers(state, now));
        break;
      case 4: {
        CreateTopicRequest req{kTopics[pick(4)], 1 + pick(8), 1 + pick(3), {}};
        propose(plan_create_topic(state, req, "id-" + std::to_string(rng()), rng()));
        break;
      }
      case 5:
        propose(plan_delete_topic(state, kTopics[pick(4)]));
        break;
      case 6:
        if (const TopicState* t = state.find_topic(kTopics[pick(4)])) {
          propose(
              plan_create_partitions(state, t->name, t->partitions.size() + 1 + pick(3), rng()));
        }
        break;
      case 7:
      case 8:
        alter_partition();
        break;
      case 9:
        propose(preferred_leader_moves(state));
        break;
      case 10:
        if (b && pick(3) == 0) {
          Result<RecordBatch> r = registry.controlled_shutdown(state, id, b->epoch, now);
          if (r.ok()) propose(r.value());
        } else if (b) {
          propose(plan_allocate_producer_ids(state, id, b->epoch));
        }
        break;
      case 11:
        if (pick(4) == 0) {
          in_flight.push_back(pick(2) ? std::string() : std::string("\x01\x00garbage", 9));
        } else {
          std::string value = pick(2) ? "true" : "false";
          propose(plan_config_change(state, ConfigResource::kTopic, kTopics[pick(4)],
                                     {{kUncleanElectionConfig, value}}));
        }
        break;
    }
    // Proposals commit in order, sometimes only after later decisions were made.
    while (!in_flight.empty() && (pick(3) != 0 || in_flight.size() > 4)) commit_one();
  }

  void alter_partition() {
    const TopicState* t = state.find_topic(kTopics[pick(4)]);
    if (!t) return;
    const PartitionState& p = t->partitions[pick(t->partitions.size())];
    if (p.leader == kNoLeader) return;
    std::vector<BrokerId> isr{p.leader};
    for (BrokerId r : p.replicas) {
      if (r != p.leader && pick(2)) isr.push_back(r);
    }
    const BrokerRegistration* leader = state.find_broker(p.leader);
    propose(handle_alter_partition(
        state, {p.leader, leader->epoch, t->name, p.id, p.leader_epoch, p.partition_epoch, isr}));
  }
};

}  // namespace

TEST_CASE("random controller workloads keep the invariants and replay identically") {
  std::map<std::string, int> totals;
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    CAPTURE(seed);
    Workload w(seed);
    for (int i = 0; i < 400; ++i) w.step();
    while (!w.in_flight.empty()) w.commit_one();
    for (const auto& [name, n] : w.applied_ok) totals[name] += n;

    TempDir d1, d2;
    auto e1 = dmq::store::Env::open({.path = d1.path.string()});
    auto e2 = dmq::store::Env::open({.path = d2.path.string()});
    MetadataStore s1(*e1), s2(*e2);
    s1.apply_committed(w.log);
    for (size_t i = 0; i < w.log.size();) {
      size_t n = 1 + w.pick(7);
      std::vector<CommittedEntry> chunk(w.log.begin() + i,
                                        w.log.begin() + std::min(w.log.size(), i + n));
      s2.apply_committed(chunk);
      i += n;
    }
    CHECK(s1.snapshot() == w.state.snapshot());
    CHECK(s2.snapshot() == w.state.snapshot());
    MetadataStore reloaded(*e2);
    REQUIRE(reloaded.load());
    CHECK(reloaded.snapshot() == w.state.snapshot());
  }
  // The workload really exercised the interesting paths.
  for (std::string kind :
       {"RegisterBroker", "FenceBroker", "UnfenceBroker", "CreateTopic", "DeleteTopic",
        "CreatePartitions", "PartitionChange", "AllocateProducerIds", "ConfigChange"}) {
    CAPTURE(kind);
    CHECK(totals[kind] > 0);
  }
}
