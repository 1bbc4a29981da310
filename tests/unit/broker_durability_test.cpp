// Durability accounting across truncation, leadership changes and topic
// re-creation: a completion started before such a change must not act after
// it. Each test scripts one interleaving with no network and no loop thread:
// the test thread plays the event loop (it publishes images, produces, and
// hands the follower its leaders' answers through the fetcher hooks), the
// group commit's completions are held and run when the script says, and a
// gate in the fault-injecting file layer holds the flusher inside an fsync.
#include <doctest/doctest.h>

#include <asio.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "broker/metadata_view.h"
#include "broker/partition_manager.h"
#include "common/log.h"
#include "kafka/protocol/record_batch.h"
#include "store/file_env.h"

namespace dmq::broker {

// Reaches the manager's private follower hooks and per-partition state.
struct PartitionManagerProbe {
  static const PartitionManager::Partition& part(PartitionManager& m, const std::string& topic) {
    auto* p = m.find(topic, 0);
    REQUIRE(p != nullptr);
    return *p;
  }
  static kafka::OffsetForLeaderEpochRequest epoch_queries(PartitionManager& m, int32_t source) {
    return m.build_epoch_queries(source);
  }
  static void on_epochs(PartitionManager& m, int32_t source,
                        const kafka::OffsetForLeaderEpochResponse& r) {
    m.handle_epoch_answers(source, r);
  }
  static kafka::FetchRequest build_fetch(PartitionManager& m, int32_t source) {
    return m.build_replica_fetch(source);
  }
  static void on_fetch(PartitionManager& m, int32_t source, kafka::FetchResponse& r,
                       std::function<void()> next) {
    m.handle_replica_fetch(source, r, std::move(next));
  }
};

}  // namespace dmq::broker

using namespace dmq;
using Probe = broker::PartitionManagerProbe;
using kafka::ErrorCode;

namespace {

constexpr auto kBound = std::chrono::seconds(10);
const std::string kTopic = "d";

class NoController : public broker::ControllerClient {
 public:
  void create_topic(const broker::TopicSpec&, bool, Done done) override { done({}); }
  void delete_topic(const std::string&, Done done) override { done({}); }
  void create_partitions(const std::string&, int32_t, bool, Done done) override { done({}); }
};

// One leader, replica set and ISR of partition d-0, in a topic with `topic_id`.
struct Placement {
  int32_t leader = 1;
  int32_t epoch = 1;
  std::vector<int32_t> replicas = {1, 2, 3};
  std::vector<int32_t> isr = {1, 2, 3};
  std::string topic_id = "d-1";
  cluster::ConfigMap configs;
};

std::string batch(int64_t base_offset, int32_t epoch, const std::string& value) {
  kafka::RecordBatchBuilder b({.base_offset = base_offset, .partition_leader_epoch = epoch});
  b.add(1700000000000 + base_offset, std::nullopt, value);
  return b.build();
}

// Node 1's PartitionManager on a FaultFileEnv, driven from the test thread.
struct Harness {
  asio::io_context io;  // never run: the test thread is the loop
  Options options;
  broker::MetadataView view;
  NoController controller;
  store::FaultFileEnv env{store::posix_file_env()};
  std::unique_ptr<broker::PartitionManager> manager;
  std::string dir;
  uint64_t index = 1;
  const std::thread::id loop = std::this_thread::get_id();

  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::function<void()>> held;  // group-commit completions not yet run
  bool gate_open = true;                   // false: the flusher waits inside fsync
  int parked = 0;                          // flusher syncs waiting at the gate

  struct Answer {
    std::string name;
    broker::ProduceResult result;
  };
  std::vector<Answer> answers;  // produce answers, in the order they were sent

  Harness() {
    log::configure(log::Level::kError, log::Format::kText);
    char tmpl[] = "/tmp/dmq-durability-XXXXXX";
    dir = mkdtemp(tmpl);
    options.data_dir = dir;
    options.node_id = 1;
    env.set_sync_hook([this](const std::string&) {
      if (std::this_thread::get_id() == loop) return;  // only the flusher is held
      std::unique_lock lock(mu);
      ++parked;
      changed.notify_all();
      changed.wait(lock, [this] { return gate_open; });
      --parked;
    });
    manager = std::make_unique<broker::PartitionManager>(io, options, view, controller, env);
    manager->set_completion_executor([this](std::function<void()> fn) {
      std::lock_guard lock(mu);
      held.push_back(std::move(fn));
      changed.notify_all();
    });
    publish({});
    REQUIRE(manager->start() == "");
  }
  ~Harness() {
    open_gate();
    manager->stop();
    manager.reset();
    std::filesystem::remove_all(dir);
  }

  void publish(std::optional<Placement> placement) {
    auto image = std::make_shared<cluster::MetadataImage>();
    for (int32_t id : {1, 2, 3}) {
      cluster::BrokerRegistration b;
      b.id = cluster::BrokerId(id);
      b.kafka_host = "127.0.0.1";
      b.kafka_port = 1;  // nothing connects: the loop never runs
      image->brokers[b.id] = b;
    }
    if (placement) {
      cluster::TopicState t;
      t.name = kTopic;
      t.topic_id = placement->topic_id;
      t.configs = placement->configs;
      cluster::PartitionState p;
      p.id = cluster::PartitionId(0);
      for (int32_t r : placement->replicas) p.replicas.push_back(cluster::BrokerId(r));
      for (int32_t r : placement->isr) p.isr.push_back(cluster::BrokerId(r));
      p.leader = cluster::BrokerId(placement->leader);
      p.leader_epoch = cluster::LeaderEpoch(placement->epoch);
      p.partition_epoch = cluster::PartitionEpoch(placement->epoch);
      t.partitions.push_back(p);
      image->topics[kTopic] = t;
    }
    view.publish(
        std::make_shared<const cluster::MetadataState>(*image, cluster::LogIndex(++index)));
  }

  // ---- group commit control
  void close_gate() {
    std::lock_guard lock(mu);
    gate_open = false;
  }
  void open_gate() {
    std::lock_guard lock(mu);
    gate_open = true;
    changed.notify_all();
  }
  void wait_parked() {
    std::unique_lock lock(mu);
    REQUIRE(changed.wait_for(lock, kBound, [this] { return parked > 0; }));
  }
  void wait_held(size_t n) {
    std::unique_lock lock(mu);
    REQUIRE(changed.wait_for(lock, kBound, [&] { return held.size() >= n; }));
  }
  // Runs the oldest held completion on the "loop".
  void run_held() {
    std::function<void()> fn;
    {
      std::lock_guard lock(mu);
      REQUIRE(!held.empty());
      fn = std::move(held.front());
      held.pop_front();
    }
    fn();
  }
  size_t held_count() {
    std::lock_guard lock(mu);
    return held.size();
  }

  // ---- the partition
  const auto& part() { return Probe::part(*manager, kTopic); }
  int64_t local_durable() { return part().local_durable.value; }
  int64_t high_watermark() { return part().high_watermark.value; }
  int64_t log_end() { return part().log->log_end_offset().value; }

  void produce(const std::string& name, int16_t acks) {
    std::string bytes = batch(0, -1, name);
    const broker::PartitionId partition(0);
    const broker::Acks level = acks == -1 ? broker::Acks::kAll : broker::Acks::kLeader;
    // As the Produce handler does: admit, read the header, append.
    broker::ProduceTarget target = manager->produce_target(kTopic, partition, level);
    if (target.error != ErrorCode::kNone) {
      answers.push_back({name, broker::ProduceResult{target.error}});
      return;
    }
    broker::ValidatedBatch validated{std::span<char>(bytes.data(), bytes.size()), {}};
    REQUIRE(kafka::read_batch_header(bytes, validated.header) == kafka::BatchError::kOk);
    manager->produce(kTopic, partition, validated, level,
                     [this, name](const broker::ProduceResult& r) {
                       answers.push_back({name, r});
                     });
  }
  const Answer* answer(const std::string& name) const {
    for (const auto& a : answers)
      if (a.name == name) return &a;
    return nullptr;
  }

  // ---- the follower's leaders
  // The OffsetForLeaderEpoch query for d-0 the follower sends to `source`
  // (nullopt: none, it has nothing that could diverge).
  std::optional<int32_t> epoch_query(int32_t source) {
    auto req = Probe::epoch_queries(*manager, source);
    if (req.topics.empty()) return std::nullopt;
    REQUIRE(req.topics[0].partitions.size() == 1);
    return req.topics[0].partitions[0].leader_epoch;
  }
  void answer_epoch(int32_t source, int32_t epoch, int64_t end_offset) {
    kafka::OffsetForLeaderEpochResponse r;
    r.topics.push_back({kTopic, {{ErrorCode::kNone, 0, epoch, end_offset}}});
    Probe::on_epochs(*manager, source, r);
  }
  // The fetch offset of d-0 in the next Fetch to `source`.
  int64_t fetch_offset(int32_t source) {
    auto req = Probe::build_fetch(*manager, source);
    REQUIRE(req.topics.size() == 1);
    REQUIRE(req.topics[0].partitions.size() == 1);
    return req.topics[0].partitions[0].fetch_offset;
  }
  // `source` answers a Fetch with `records` (whole batches) and its high watermark.
  void answer_fetch(int32_t source, const std::string& records, int64_t high_watermark) {
    kafka::FetchResponse r;
    kafka::FetchResponse::Partition p;
    p.partition_index = 0;
    p.high_watermark = high_watermark;
    p.records = kafka::Records::view(records);
    r.responses.push_back({kTopic, {p}});
    Probe::on_fetch(*manager, source, r, [] {});
  }
};

Placement led_by(int32_t leader, int32_t epoch, std::vector<int32_t> isr = {1, 2, 3}) {
  Placement p;
  p.leader = leader;
  p.epoch = epoch;
  p.isr = std::move(isr);
  return p;
}

}  // namespace

TEST_CASE("durability: a group commit answered after a truncation and re-append counts nothing") {
  Harness h;
  h.publish(led_by(2, 1));
  CHECK(!h.epoch_query(2));  // empty log: straight to fetching
  REQUIRE(h.fetch_offset(2) == 0);
  h.answer_fetch(2, batch(0, 1, "a0") + batch(1, 1, "a1") + batch(2, 1, "a2"), 0);
  h.wait_held(1);  // flushed to 3; the completion has not reached the loop yet

  // Broker 3 leads epoch 2 and holds only offset 0 of epoch 1.
  h.publish(led_by(3, 2));
  REQUIRE(h.epoch_query(3) == 1);
  h.answer_epoch(3, 1, 1);
  CHECK(h.log_end() == 1);
  CHECK(h.local_durable() == 0);

  // Its data replaces offsets 1.. and is not synced yet.
  h.close_gate();
  REQUIRE(h.fetch_offset(3) == 1);
  h.answer_fetch(3, batch(1, 2, "b1") + batch(2, 2, "b2") + batch(3, 2, "b3"), 1);
  h.wait_parked();
  CHECK(h.log_end() == 4);

  h.run_held();  // "durable up to 3": about a0..a2, of which a1 and a2 are gone
  CHECK(h.local_durable() == 0);

  // Led by this replica alone, its high watermark may count only synced offsets.
  h.publish(led_by(1, 3, {1}));
  CHECK(h.high_watermark() == 1);
  h.produce("x", -1);  // offset 4
  CHECK(h.answers.empty());

  h.open_gate();
  h.wait_held(2);
  h.run_held();
  h.run_held();
  CHECK(h.local_durable() == 5);
  CHECK(h.high_watermark() == 5);
  REQUIRE(h.answers.size() == 1);
  CHECK(h.answers[0].result.error == ErrorCode::kNone);
  CHECK(h.answers[0].result.base_offset.value == 4);
}

TEST_CASE("durability: produce completions from before a leader-epoch change do not count") {
  Harness h;
  h.publish(led_by(1, 1, {1}));
  h.produce("p0", 1);   // offset 0, acks=1
  h.produce("p1", -1);  // offset 1, acks=all
  h.wait_held(2);
  CHECK(h.answers.empty());

  // Broker 2 leads epoch 2 without either batch: this replica truncates both.
  h.publish(led_by(2, 2, {2}));
  REQUIRE(h.answer("p1"));
  CHECK(h.answer("p1")->result.error == ErrorCode::kNotLeaderOrFollower);
  REQUIRE(h.epoch_query(2) == 1);
  h.answer_epoch(2, 1, 0);
  CHECK(h.log_end() == 0);
  h.close_gate();
  REQUIRE(h.fetch_offset(2) == 0);
  h.answer_fetch(2, batch(0, 2, "b0") + batch(1, 2, "b1") + batch(2, 2, "b2"), 0);
  h.wait_parked();

  h.run_held();  // p0's flush: its offset now holds b0
  h.run_held();  // p1's
  REQUIRE(h.answer("p0"));
  CHECK(h.answer("p0")->result.error == ErrorCode::kNotLeaderOrFollower);
  CHECK(h.answers.size() == 2);
  CHECK(h.local_durable() == 0);

  h.publish(led_by(1, 3, {1}));
  CHECK(h.high_watermark() == 0);
  h.open_gate();
  h.wait_held(1);
  h.run_held();
  CHECK(h.local_durable() == 3);
  CHECK(h.high_watermark() == 3);
}

TEST_CASE("durability: a completion for a deleted topic does not count for its re-creation") {
  Harness h;
  h.publish(led_by(1, 1, {1}));
  h.produce("old0", 1);
  h.produce("old1", 1);
  h.produce("old2", 1);
  h.wait_held(3);

  h.publish(std::nullopt);  // deleted
  Placement again = led_by(1, 1, {1});
  again.topic_id = "d-2";
  h.publish(again);
  CHECK(h.log_end() == 0);
  h.close_gate();
  h.produce("new0", -1);  // offset 0 of the new log, not synced
  h.wait_parked();

  for (int i = 0; i < 3; ++i) h.run_held();
  CHECK(h.local_durable() == 0);
  CHECK(h.high_watermark() == 0);
  REQUIRE(h.answers.size() == 3);
  for (const auto& a : h.answers) {
    CHECK(a.name.rfind("old", 0) == 0);
    CHECK(a.result.error == ErrorCode::kNotLeaderOrFollower);
  }

  h.open_gate();
  h.wait_held(1);
  h.run_held();
  CHECK(h.local_durable() == 1);
  CHECK(h.high_watermark() == 1);
  REQUIRE(h.answers.size() == 4);
  CHECK(h.answers[3].name == "new0");
  CHECK(h.answers[3].result.error == ErrorCode::kNone);
  CHECK(h.answers[3].result.base_offset.value == 0);
}

TEST_CASE("durability: a fetch answer from a previous leadership is dropped") {
  Harness h;
  h.publish(led_by(2, 1));
  CHECK(!h.epoch_query(2));
  REQUIRE(h.fetch_offset(2) == 0);  // in flight to broker 2 at epoch 1

  // Broker 3 leads epoch 2 (a fetch to it goes out), then broker 2 again at epoch 3.
  h.publish(led_by(3, 2));
  CHECK(!h.epoch_query(3));
  REQUIRE(h.fetch_offset(3) == 0);
  h.answer_fetch(2, batch(0, 1, "stale"), 1);  // another leader's answer
  CHECK(h.log_end() == 0);
  h.publish(led_by(2, 3));
  CHECK(!h.epoch_query(2));
  h.answer_fetch(3, batch(0, 2, "stale"), 1);  // a deposed leader's answer
  h.answer_fetch(2, batch(0, 1, "stale"), 1);  // the epoch-1 request's answer
  CHECK(h.log_end() == 0);
  CHECK(h.high_watermark() == 0);
  CHECK(h.held_count() == 0);

  // The answer to a request of this leadership is taken.
  REQUIRE(h.fetch_offset(2) == 0);
  h.answer_fetch(2, batch(0, 3, "fresh"), 0);
  h.wait_held(1);
  h.run_held();
  CHECK(h.log_end() == 1);
  CHECK(h.local_durable() == 1);

  h.publish(led_by(1, 4, {1}));
  CHECK(h.high_watermark() == 1);
  h.produce("x", -1);
  h.wait_held(1);
  h.run_held();
  REQUIRE(h.answers.size() == 1);
  CHECK(h.answers[0].result.error == ErrorCode::kNone);
  CHECK(h.answers[0].result.base_offset.value == 1);
  CHECK(h.high_watermark() == 2);
}

TEST_CASE("config changes in the metadata reach the open log at once") {
  Harness h;
  Placement placement = led_by(1, 1, {1});
  placement.replicas = {1};
  h.publish(placement);
  const auto& p = h.part();
  REQUIRE(p.log);
  CHECK_FALSE(p.log->config().cleanup_compact);
  CHECK(p.produce_config.min_insync == 1);
  const int64_t retention_before = p.log->config().retention_ms;

  // A ConfigChangeRecord applied to the image (AlterConfigs, REST): the same
  // partition, same epoch, new topic configs.
  placement.configs = {{"cleanup.policy", "compact,delete"},
                       {"segment.bytes", "4096"},
                       {"retention.ms", "60000"},
                       {"min.cleanable.dirty.ratio", "0.25"},
                       {"delete.retention.ms", "5000"},
                       {"min.compaction.lag.ms", "100"},
                       {"min.insync.replicas", "2"}};
  h.publish(placement);
  const auto& q = h.part();
  CHECK(&q == &p);  // the same open log, not a reopened one
  store::PartitionLogConfig c = q.log->config();
  CHECK(c.cleanup_compact);
  CHECK(c.cleanup_delete);
  CHECK(c.segment_bytes == 4096);
  CHECK(c.retention_ms == 60000);
  CHECK(c.retention_ms != retention_before);
  CHECK(c.min_cleanable_dirty_ratio == doctest::Approx(0.25));
  CHECK(c.delete_retention_ms == 5000);
  CHECK(c.min_compaction_lag_ms == 100);
  CHECK(q.produce_config.min_insync == 2);
  // acks=all now needs two in-sync replicas: refused before the append.
  h.produce("a", -1);
  REQUIRE(h.answer("a"));
  CHECK(h.answer("a")->result.error == ErrorCode::kNotEnoughReplicas);

  // A compacted topic refuses records without a key (Kafka's INVALID_RECORD).
  h.produce("b", 1);
  REQUIRE(h.answer("b"));
  CHECK(h.answer("b")->result.error == ErrorCode::kInvalidRecord);

  // Back to the defaults: the log follows.
  placement.configs = {};
  h.publish(placement);
  CHECK_FALSE(h.part().log->config().cleanup_compact);
  CHECK(h.part().log->config().segment_bytes == store::PartitionLogConfig{}.segment_bytes);
}

TEST_CASE("replication: a follower just given a partition is answered early, until it fetched") {
  using std::chrono::steady_clock;
  Harness h;
  const broker::BrokerId f2(2), f3(3), stranger(4);
  // Follower 2's fetch for its other partitions, parked before the assignment.
  bool woken = false;
  h.manager->park({{"other", broker::PartitionId(0)}}, std::chrono::seconds(10), f2,
                  [&] { woken = true; });
  const auto sent_before = steady_clock::now();
  CHECK(h.manager->replica_answer_by(f2, sent_before) == steady_clock::time_point::max());

  h.publish(led_by(1, 1));  // node 1 now leads d-0, followed by 2 and 3
  h.io.poll();
  CHECK(woken);  // the parked fetch is answered at once: it cannot name d-0
  CHECK(h.manager->replica_answer_by(f2, sent_before) == sent_before);
  // A fetch sent after the assignment may still predate the follower's
  // metadata: a short wait only.
  const auto sent_after = steady_clock::now() + std::chrono::milliseconds(1);
  CHECK(h.manager->replica_answer_by(f2, sent_after) == sent_after + std::chrono::milliseconds(20));
  CHECK(h.manager->replica_answer_by(stranger, sent_after) == steady_clock::time_point::max());

  // Once follower 2 fetched d-0 its waits are its own again; 3 is still new.
  auto read = h.manager->fetch(kTopic, broker::PartitionId(0), broker::Offset(0), 1024, f2,
                               broker::LeaderEpoch(1));
  CHECK(read.error == ErrorCode::kNone);
  CHECK(h.manager->replica_answer_by(f2, sent_after) == steady_clock::time_point::max());
  CHECK(h.manager->replica_answer_by(f3, sent_after) == sent_after + std::chrono::milliseconds(20));
}
