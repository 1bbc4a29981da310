// The share coordinator's I/O part (src/group/share_coordinator.h) in-process,
// on a fake Backend whose logs live in memory and whose produce deduplicates
// idempotent batches by (producer id, sequence) as the broker's producer
// state does: answers only after the acks=-1 append, locks and dead-letter
// intents survive a failover, and a dead-letter write repeated by the next
// coordinator lands once.
#include <doctest/doctest.h>

#include <deque>

#include "group/share_coordinator.h"
#include "group/share_coordinator_internal.h"
#include "kafka/protocol/record_batch.h"

using namespace dmq;
using kafka::ErrorCode;

namespace {

constexpr int32_t kSelf = 1;

struct Log {
  std::string bytes;
  int64_t next = 0;
  std::map<std::pair<int64_t, int32_t>, int64_t> sequences;  // (pid, seq) -> offset
};

class FakeBackend : public broker::Backend {
 public:
  explicit FakeBackend(broker::MetadataView& view) : view_(view) {}
  broker::BrokerId node_id() const override { return broker::BrokerId(kSelf); }
  Image metadata() const override { return view_.current(); }
  void wait_for_metadata(std::function<bool(const cluster::MetadataImage&)>,
                         std::chrono::milliseconds, std::function<void(bool)> done) override {
    done(false);
  }
  broker::ProduceTarget produce_target(std::string_view, broker::PartitionId,
                                       broker::Acks) const override {
    return {ErrorCode::kNone, 1 << 20};
  }
  void produce(std::string_view topic, broker::PartitionId partition,
               const broker::ValidatedBatch& batch, broker::Acks acks,
               std::function<void(const broker::ProduceResult&)> done) override {
    CHECK(acks == broker::Acks::kAll);
    std::string bytes(batch.bytes.data(), batch.bytes.size());
    auto& log = logs[{std::string(topic), partition.value}];
    kafka::BatchHeader h;
    REQUIRE(kafka::read_batch_header(bytes, h) == kafka::BatchError::kOk);
    if (h.producer_id >= 0) {
      auto seen = log.sequences.find({h.producer_id, h.base_sequence});
      if (seen != log.sequences.end()) {
        duplicates++;
        return done(broker::ProduceResult{ErrorCode::kNone, broker::Offset(seen->second),
                                          broker::Offset(0), -1});
      }
      log.sequences[{h.producer_id, h.base_sequence}] = log.next;
    }
    const int64_t base = log.next;
    kafka::set_base_offset(bytes.data(), base);
    log.next += h.last_offset_delta + 1;
    log.bytes += bytes;
    // A dropped acknowledgement: the write is in the log, the writer never hears.
    if (drop_acks_to == topic) return;
    appends[std::string(topic)]++;
    if (hold_acks_to == topic) {
      held.push_back([done, base] {
        done(broker::ProduceResult{ErrorCode::kNone, broker::Offset(base), broker::Offset(0), -1});
      });
      return;
    }
    done(broker::ProduceResult{ErrorCode::kNone, broker::Offset(base), broker::Offset(0), -1});
  }
  broker::FetchRead fetch(std::string_view topic, broker::PartitionId partition,
                          broker::Offset offset, uint32_t, broker::BrokerId,
                          broker::LeaderEpoch) override {
    broker::FetchRead r;
    auto& log = logs[{std::string(topic), partition.value}];
    r.high_watermark = broker::Offset(log.next);
    r.log_start_offset = broker::Offset(0);
    if (offset >= r.high_watermark) return r;
    broker::RecordChunk chunk;
    chunk.bytes = log.bytes;  // the whole log: readers skip what lies before `offset`
    chunk.length = static_cast<uint32_t>(chunk.bytes.size());
    r.records = std::move(chunk);
    return r;
  }
  void park(const std::vector<broker::TopicPartition>&, std::chrono::milliseconds, broker::BrokerId,
            std::function<void()> wake) override {
    wake();
  }
  broker::OffsetLookup list_offset(std::string_view topic, broker::PartitionId partition,
                                   int64_t timestamp) override {
    auto& log = logs[{std::string(topic), partition.value}];
    return {ErrorCode::kNone, broker::Offset(timestamp == -2 ? 0 : log.next), -1,
            store::kUnknownLeaderEpoch};
  }
  void init_producer_id(std::function<void(const broker::ProducerIdResult&)> done) override {
    done({ErrorCode::kNone, broker::ProducerId(next_producer_id++), 0});
  }

  std::map<std::pair<std::string, int32_t>, Log> logs;
  std::string drop_acks_to;
  // Acknowledgements of writes to this topic wait in `held` (an append in flight).
  std::string hold_acks_to;
  std::vector<std::function<void()>> held;
  std::map<std::string, int> appends;
  int duplicates = 0;
  int64_t next_producer_id = 1000;
  broker::MetadataView& view_;
};

// Reads and appends through the fake backend, answering later like the real one.
class FakeIo : public group::ShareIo {
 public:
  FakeIo(asio::io_context& io, FakeBackend& backend) : io_(io), backend_(backend) {}
  void read(const group::TopicPartition& tp, int64_t offset, uint32_t,
            std::function<void(group::ShareRead)> done) override {
    auto f = backend_.fetch(tp.topic, broker::PartitionId(tp.partition), broker::Offset(offset), 0,
                            broker::kConsumerReplicaId, store::kUnknownLeaderEpoch);
    group::ShareRead r{f.error, f.log_start_offset.value, f.high_watermark.value,
                       f.records ? f.records->bytes : std::string()};
    asio::post(io_, [r, done] { done(r); });
  }
  void append(const group::TopicPartition& tp, std::string batch,
              std::function<void(group::ShareAppend)> done) override {
    auto bytes = std::make_shared<std::string>(std::move(batch));
    broker::ValidatedBatch validated{std::span<char>(bytes->data(), bytes->size()), {}};
    REQUIRE(kafka::read_batch_header(*bytes, validated.header) == kafka::BatchError::kOk);
    backend_.produce(tp.topic, broker::PartitionId(tp.partition), validated, broker::Acks::kAll,
                     [bytes, done](const broker::ProduceResult& r) {
                       done({r.error, r.base_offset.value});
                     });
  }
  // Parked fetches wait here until the test says new data arrived.
  void watch(const WatchList& from, std::chrono::milliseconds,
             std::function<void()> wake) override {
    watched = from;
    watchers.push_back(std::move(wake));
  }
  void wake_watchers() {
    auto w = std::move(watchers);
    watchers.clear();
    for (auto& wake : w) wake();
  }
  WatchList watched;
  std::vector<std::function<void()>> watchers;

 private:
  asio::io_context& io_;
  FakeBackend& backend_;
};

class FakeController : public broker::ControllerClient {
 public:
  void create_topic(const broker::TopicSpec&, bool, Done done) override { done({201, "", "", ""}); }
  void delete_topic(const std::string&, Done done) override { done({200, "", "", ""}); }
  void create_partitions(const std::string&, int32_t, bool, Done done) override {
    done({200, "", "", ""});
  }
};

group::ShareAckEntry ack_entry(int64_t offset, group::AckType type, std::string error) {
  group::ShareAckEntry a;
  a.tp.topic = "t";
  a.offset = offset;
  a.type = type;
  a.error = std::move(error);
  return a;
}

cluster::TopicState topic(const std::string& name, cluster::ConfigMap configs = {}) {
  cluster::TopicState t;
  t.name = name;
  t.configs = std::move(configs);
  cluster::PartitionState p;
  p.id = cluster::PartitionId(0);
  p.replicas = {cluster::BrokerId(kSelf)};
  p.isr = p.replicas;
  p.leader = cluster::BrokerId(kSelf);
  t.partitions.push_back(p);
  return t;
}

void publish(broker::MetadataView& view) {
  cluster::MetadataImage image;
  cluster::BrokerRegistration b;
  b.id = cluster::BrokerId(kSelf);
  b.fenced = false;
  image.brokers[b.id] = b;
  for (auto t : {topic("__share_group_state"), topic("dlq"),
                 topic("t", {{"share.auto.offset.reset", "earliest"},
                             {"share.dead.letter.topic", "dlq"},
                             {"share.delivery.count.limit", "2"}})})
    image.topics.emplace(t.name, t);
  view.publish(
      std::make_shared<const cluster::MetadataState>(std::move(image), cluster::LogIndex(2)));
}

struct Fixture {
  asio::io_context io;
  Options options;
  broker::MetadataView view;
  FakeBackend backend{view};
  FakeIo share_io{io, backend};
  FakeController controller;
  std::unique_ptr<group::ShareCoordinator> shares;

  Fixture() {
    options.offsets_topic_num_partitions = 1;
    publish(view);
    kafka::RecordBatchBuilder builder;
    for (int i = 0; i < 3; ++i)
      builder.add(1000 + i, std::string_view("k"), std::string_view("v" + std::to_string(i)));
    auto batch = builder.build();
    broker::ValidatedBatch validated{std::span<char>(batch.data(), batch.size()), {}};
    kafka::read_batch_header(batch, validated.header);
    backend.produce("t", broker::PartitionId(0), validated, broker::Acks::kAll,
                    [](const broker::ProduceResult&) {});
  }
  // A new coordinator on the same logs: what a failover looks like from here.
  void start_coordinator() {
    if (shares) shares->stop();
    shares =
        std::make_unique<group::ShareCoordinator>(io, options, backend, share_io, view, controller);
    shares->start();
    REQUIRE(run_until([&] { return shares->status_of("g") == group::ShareError::kNone; }));
  }
  ~Fixture() {
    if (shares) shares->stop();
  }
  template <class Pred>
  bool run_until(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(5));
      io.restart();
    }
    return done();
  }
  void idle(std::chrono::milliseconds how_long) {
    io.run_for(how_long);
    io.restart();
  }
  group::ShareFetchResult fetch(const std::string& member, size_t max) {
    std::optional<group::ShareFetchResult> out;
    shares->fetch({"g", member, {"t"}, max, 0}, [&](group::ShareFetchResult r) { out = r; });
    REQUIRE(run_until([&] { return out.has_value(); }));
    return *out;
  }
  group::ShareAckResult ack(const std::string& member, int64_t offset, group::AckType type) {
    std::optional<group::ShareAckResult> out;
    shares->acknowledge("g", member, {ack_entry(offset, type, "broken")},
                        [&](group::ShareAckResult r) { out = r; });
    REQUIRE(run_until([&] { return out.has_value(); }));
    return *out;
  }
  // A fetch that waits up to 20 s for records, parked once it watches for
  // new data; `out` is set when it is answered.
  void start_waiting_fetch(const std::string& member, std::optional<group::ShareFetchResult>& out) {
    shares->fetch({"g", member, {"t"}, 10, 20000}, [&out](group::ShareFetchResult r) { out = r; });
    REQUIRE(run_until([&] { return !share_io.watchers.empty(); }));
  }
  void produce_one(const std::string& value) {
    kafka::RecordBatchBuilder builder;
    builder.add(2000, std::string_view("k"), std::string_view(value));
    auto batch = builder.build();
    broker::ValidatedBatch validated{std::span<char>(batch.data(), batch.size()), {}};
    kafka::read_batch_header(batch, validated.header);
    backend.produce("t", broker::PartitionId(0), validated, broker::Acks::kAll,
                    [](const broker::ProduceResult&) {});
  }
  size_t dlq_records() {
    const auto& log = backend.logs[{"dlq", 0}];
    return group::decode_records(log.bytes, 0, 1000).size();
  }
};

}  // namespace

TEST_CASE("share coordinator: locks and a dead letter survive a failover, the write lands once") {
  Fixture f;
  f.start_coordinator();
  auto got = f.fetch("", 3);
  REQUIRE(got.error == group::ShareError::kNone);
  REQUIRE(got.records.size() == 3);
  const std::string member = got.member_id;
  CHECK(got.records[0].value == "v0");
  CHECK(f.ack(member, 1, group::AckType::kAccept).error == group::ShareError::kNone);

  // The coordinator dies right after its dead-letter write reached the
  // dead-letter partition, before it heard the acknowledgement.
  f.backend.drop_acks_to = "dlq";
  CHECK(f.ack(member, 0, group::AckType::kReject).error == group::ShareError::kNone);
  REQUIRE(f.run_until([&] { return f.dlq_records() == 1; }));
  f.backend.drop_acks_to.clear();

  f.start_coordinator();  // loads the intent and the lock of offset 2
  REQUIRE(f.run_until([&] {
    auto d = f.shares->describe("g");
    return d && d->partitions.size() == 1 && d->partitions[0].dead_lettered == 1;
  }));
  CHECK(f.backend.duplicates == 1);  // the repeated write was recognized
  CHECK(f.dlq_records() == 1);
  auto dead = group::decode_records(f.backend.logs[{"dlq", 0}].bytes, 0, 10);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].value == "v0");
  std::map<std::string, std::string> headers;
  for (const auto& [k, v] : dead[0].headers) headers[k] = v.value_or("");
  CHECK(headers["dmq.dlq.source.offset"] == "0");
  CHECK(headers["dmq.dlq.error"] == "broken");
  CHECK(headers["dmq.dlq.delivery.count"] == "1");
  CHECK(headers["dmq.dlq.group"] == "g");

  // The member still holds offset 2 on the new coordinator; others do not.
  CHECK(f.ack("other", 2, group::AckType::kAccept).error == group::ShareError::kWrongMember);
  CHECK(f.ack(member, 2, group::AckType::kAccept).error == group::ShareError::kNone);
  CHECK(f.ack(member, 1, group::AckType::kAccept).error == group::ShareError::kNotInFlight);
  auto d = f.shares->describe("g");
  REQUIRE(d);
  CHECK(d->partitions[0].start_offset == 3);
}

TEST_CASE("share coordinator: the same record twice in one ack call is refused, none applied") {
  Fixture f;
  f.start_coordinator();
  auto got = f.fetch("", 1);
  REQUIRE(got.records.size() == 1);
  std::optional<group::ShareAckResult> out;
  auto a = ack_entry(0, group::AckType::kAccept, "");
  f.shares->acknowledge("g", got.member_id, {a, a}, [&](group::ShareAckResult r) { out = r; });
  REQUIRE(out);
  CHECK(out->error == group::ShareError::kInvalidRequest);
  CHECK(f.ack(got.member_id, 0, group::AckType::kAccept).error == group::ShareError::kNone);
}

TEST_CASE("share coordinator: an intent persisted before the write is written once by the next") {
  Fixture f;
  f.start_coordinator();
  auto got = f.fetch("", 1);
  REQUIRE(got.records.size() == 1);
  // Hold back the producer id: the intent is persisted, no write went out.
  f.backend.drop_acks_to = "__share_group_state";
  std::optional<group::ShareAckResult> out;
  f.shares->acknowledge("g", got.member_id, {ack_entry(0, group::AckType::kReject, "x")},
                        [&](group::ShareAckResult r) { out = r; });
  f.idle(std::chrono::milliseconds(300));
  CHECK(!out);  // never answered without persistence
  CHECK(f.dlq_records() == 0);
  f.backend.drop_acks_to.clear();
  f.start_coordinator();
  REQUIRE(f.run_until([&] { return f.dlq_records() == 1; }));
  f.idle(std::chrono::milliseconds(300));
  CHECK(f.dlq_records() == 1);
  CHECK(f.backend.duplicates == 0);
}

TEST_CASE("share coordinator: acks arriving during a state write share the next one") {
  Fixture f;
  f.start_coordinator();
  std::vector<std::string> members;
  for (int i = 0; i < 3; ++i) {
    auto got = f.fetch("", 1);
    REQUIRE(got.records.size() == 1);
    members.push_back(got.member_id);
  }
  f.backend.hold_acks_to = "__share_group_state";
  const int before = f.backend.appends["__share_group_state"];
  std::vector<std::optional<group::ShareAckResult>> out(3);
  auto ack = [&](int i) {
    f.shares->acknowledge("g", members[i], {ack_entry(i, group::AckType::kAccept, "")},
                          [&out, i](group::ShareAckResult r) { out[i] = r; });
  };
  ack(0);
  REQUIRE(f.run_until([&] { return f.backend.held.size() == 1; }));
  ack(1);
  ack(2);
  f.idle(std::chrono::milliseconds(50));
  // One write in flight; the two later acks wait for the next, none is answered.
  CHECK(f.backend.held.size() == 1);
  CHECK(f.backend.appends["__share_group_state"] == before + 1);
  CHECK((!out[0] && !out[1] && !out[2]));

  auto release = [&] {
    auto held = std::move(f.backend.held);
    f.backend.held.clear();
    for (auto& h : held) h();
  };
  release();
  REQUIRE(f.run_until([&] { return out[0].has_value() && f.backend.held.size() == 1; }));
  CHECK(out[0]->error == group::ShareError::kNone);
  CHECK((!out[1] && !out[2]));  // their change was not in the first write
  CHECK(f.backend.appends["__share_group_state"] == before + 2);
  release();
  REQUIRE(f.run_until([&] { return out[1].has_value() && out[2].has_value(); }));
  CHECK(out[1]->error == group::ShareError::kNone);
  CHECK(out[2]->error == group::ShareError::kNone);
  CHECK(f.backend.appends["__share_group_state"] == before + 2);  // 3 acks, 2 writes

  // What was written is what a new coordinator loads: all three accepted.
  f.backend.hold_acks_to.clear();
  f.start_coordinator();
  auto d = f.shares->describe("g");
  REQUIRE(d);
  REQUIRE(d->partitions.size() == 1);
  CHECK(d->partitions[0].start_offset == 3);
}

TEST_CASE("share coordinator: a parked fetch wakes on new data, not on a poll") {
  Fixture f;
  f.start_coordinator();
  auto got = f.fetch("", 3);
  REQUIRE(got.records.size() == 3);
  std::optional<group::ShareFetchResult> out;
  f.start_waiting_fetch(got.member_id, out);
  // It watches the partition from the high watermark it read to.
  REQUIRE(f.share_io.watched.size() == 1);
  CHECK(f.share_io.watched[0].second == 3);
  const auto writes_before = f.backend.appends["__share_group_state"];
  f.idle(std::chrono::milliseconds(300));
  CHECK(!out);                             // parked: nothing to deliver
  CHECK(f.share_io.watchers.size() == 1);  // and it did not look again meanwhile
  CHECK(f.backend.appends["__share_group_state"] == writes_before);
  f.produce_one("new");
  f.share_io.wake_watchers();
  REQUIRE(f.run_until([&] { return out.has_value(); }));
  REQUIRE(out->records.size() == 1);
  CHECK(out->records[0].offset == 3);
  CHECK(out->records[0].value == "new");
}

TEST_CASE("share coordinator: a release wakes a parked fetch of another member at once") {
  Fixture f;
  f.start_coordinator();
  auto holder = f.fetch("", 3);
  REQUIRE(holder.records.size() == 3);
  std::optional<group::ShareFetchResult> out;
  const auto start = std::chrono::steady_clock::now();
  f.start_waiting_fetch("", out);
  CHECK(f.ack(holder.member_id, 1, group::AckType::kRelease).error == group::ShareError::kNone);
  REQUIRE(f.run_until([&] { return out.has_value(); }));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  REQUIRE(out->records.size() == 1);
  CHECK(out->records[0].offset == 1);
  CHECK(out->records[0].delivery_count == 2);
}

TEST_CASE("share coordinator: delete is refused with members, then tombstones the state") {
  Fixture f;
  f.options.group_share_session_timeout_ms = 100;
  f.start_coordinator();
  auto got = f.fetch("", 2);
  REQUIRE(got.records.size() == 2);
  CHECK(f.ack(got.member_id, 0, group::AckType::kAccept).error == group::ShareError::kNone);
  auto remove = [&] {
    std::optional<group::ShareError> out;
    f.shares->delete_group("g", [&](group::ShareError e, std::string) { out = e; });
    REQUIRE(f.run_until([&] { return out.has_value(); }));
    return *out;
  };
  CHECK(remove() == group::ShareError::kNonEmptyGroup);
  CHECK(f.shares->describe("g"));
  f.idle(std::chrono::milliseconds(300));  // the member leaves; its lock on offset 1 stays
  CHECK(remove() == group::ShareError::kNone);
  CHECK(!f.shares->describe("g"));
  CHECK(remove() == group::ShareError::kUnknownGroup);
  f.start_coordinator();  // the tombstone, not the last snapshot, is what loads
  CHECK(!f.shares->describe("g"));
  auto again = f.fetch("", 3);
  REQUIRE(again.records.size() == 3);
  CHECK(again.records[0].offset == 0);
  CHECK(again.records[0].delivery_count == 1);
}
