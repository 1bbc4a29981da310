// The coordinator's I/O part (src/group/coordinator.h) in-process, on a fake
// Backend whose __consumer_offsets log lives in memory: Kafka's error codes at
// the edge (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, MEMBER_ID_REQUIRED,
// ...), commits answered only after their acks=-1 append, loading after a
// leadership change, and FindCoordinator creating the internal topic.
#include <doctest/doctest.h>

#include <deque>

#include "group/coordinator.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/protocol/request.h"

using namespace dmq;
using kafka::ErrorCode;

namespace {

constexpr int32_t kSelf = 1;

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
  // Appends are acknowledged when the test says so (hold = true) or at once.
  void produce(std::string_view topic, broker::PartitionId partition,
               const broker::ValidatedBatch& batch, broker::Acks acks,
               std::function<void(const broker::ProduceResult&)> done) override {
    CHECK(acks == broker::Acks::kAll);
    std::string bytes(batch.bytes.data(), batch.bytes.size());
    auto& log = logs[{std::string(topic), partition.value}];
    kafka::BatchHeader h;
    REQUIRE(kafka::read_batch_header(bytes, h) == kafka::BatchError::kOk);
    CHECK(h.last_offset_delta == batch.header.last_offset_delta);
    const int64_t base = static_cast<int64_t>(log.next);
    kafka::set_base_offset(bytes.data(), base);
    log.next += static_cast<size_t>(h.last_offset_delta) + 1;
    log.bytes += bytes;
    produced++;
    auto ack = [done, base] {
      done(broker::ProduceResult{ErrorCode::kNone, broker::Offset(base), broker::Offset(0), -1});
    };
    if (hold) {
      held.push_back(ack);
    } else {
      ack();
    }
  }
  broker::FetchRead fetch(std::string_view topic, broker::PartitionId partition,
                          broker::Offset offset, uint32_t, broker::BrokerId,
                          broker::LeaderEpoch) override {
    broker::FetchRead r;
    auto& log = logs[{std::string(topic), partition.value}];
    r.high_watermark = broker::Offset(static_cast<int64_t>(log.next));
    r.log_start_offset = broker::Offset(0);
    if (offset >= r.high_watermark) return r;
    broker::RecordChunk chunk;
    chunk.bytes = log.bytes;  // whole log: the loader skips what lies before `offset`
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
    if (topic == "t") return {ErrorCode::kNone, broker::Offset(timestamp == -2 ? 0 : 100)};
    auto& log = logs[{std::string(topic), partition.value}];
    return {ErrorCode::kNone, broker::Offset(timestamp == -2 ? 0 : static_cast<int64_t>(log.next))};
  }
  void ack_all() {
    auto acks = std::move(held);
    held.clear();
    for (auto& a : acks) a();
  }

  struct Log {
    std::string bytes;
    size_t next = 0;
  };
  std::map<std::pair<std::string, int32_t>, Log> logs;
  bool hold = false;
  std::deque<std::function<void()>> held;
  int produced = 0;
  broker::MetadataView& view_;
};

class FakeController : public broker::ControllerClient {
 public:
  void create_topic(const broker::TopicSpec& spec, bool, Done done) override {
    created.push_back(spec);
    done({201, "", "", "{}"});
  }
  void delete_topic(const std::string&, Done done) override { done({200, "", "", ""}); }
  void create_partitions(const std::string&, int32_t, bool, Done done) override {
    done({200, "", "", ""});
  }
  std::vector<broker::TopicSpec> created;
};

cluster::MetadataImage image_with_offsets(int32_t partitions, int32_t leader, int32_t epoch = 0) {
  cluster::MetadataImage image;
  cluster::BrokerRegistration b;
  b.id = cluster::BrokerId(kSelf);
  b.kafka_host = "127.0.0.1";
  b.kafka_port = 9092;
  b.fenced = false;
  image.brokers[b.id] = b;
  cluster::BrokerRegistration other = b;
  other.id = cluster::BrokerId(2);
  other.kafka_port = 9093;
  image.brokers[other.id] = other;
  cluster::TopicState t;
  t.name = "__consumer_offsets";
  for (int32_t p = 0; p < partitions; ++p) {
    cluster::PartitionState ps;
    ps.id = cluster::PartitionId(p);
    ps.replicas = {cluster::BrokerId(leader)};
    ps.isr = ps.replicas;
    ps.leader = cluster::BrokerId(leader);
    ps.leader_epoch = cluster::LeaderEpoch(epoch);
    t.partitions.push_back(ps);
  }
  image.topics.emplace(t.name, t);
  cluster::TopicState data;
  data.name = "t";
  cluster::PartitionState p0;
  p0.id = cluster::PartitionId(0);
  p0.replicas = {cluster::BrokerId(kSelf)};
  p0.isr = p0.replicas;
  p0.leader = cluster::BrokerId(kSelf);
  data.partitions.push_back(p0);
  image.topics.emplace(data.name, data);
  return image;
}

void publish(broker::MetadataView& view, cluster::MetadataImage image) {
  static uint64_t index = 1;
  view.publish(
      std::make_shared<const cluster::MetadataState>(std::move(image), cluster::LogIndex(++index)));
}

// A request on its way through the coordinator; the answer is decoded as Resp.
template <class Req, class Resp>
struct Call {
  Call(Req req, int16_t version) {
    ex = std::make_shared<kafka::Exchange>();
    ex->request.header.api_key = static_cast<int16_t>(Req::kApiKey);
    ex->request.header.api_version = version;
    ex->request.header.client_id = std::string_view("client");
    ex->request.body = std::move(req);
    ex->respond = [this, version](kafka::Response r) {
      answered = true;
      int32_t correlation = 0;
      std::string_view frame(r.frame.bytes);
      REQUIRE(kafka::decode_response(frame.substr(4), version, correlation, resp) ==
              kafka::CodecError::kOk);
    };
  }
  kafka::ExchangePtr ex;
  bool answered = false;
  Resp resp;
};

struct Fixture {
  asio::io_context io;
  Options options;
  broker::MetadataView view;
  FakeBackend backend{view};
  FakeController controller;
  std::unique_ptr<group::Coordinator> coordinator;

  Fixture() {
    options.group_initial_rebalance_delay_ms = 0;
    options.group_min_session_timeout_ms = 100;
    options.offsets_topic_num_partitions = 4;
    coordinator = std::make_unique<group::Coordinator>(io, options, backend, view, controller);
  }
  ~Fixture() { coordinator->stop(); }
  // Runs the loop until `done()` or 5 s: the coordinator's timers and posted
  // load steps need it. Bounded, and it stops as soon as the condition holds.
  template <class Pred>
  bool run_until(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(5));
      io.restart();
    }
    return done();
  }
  template <class C>
  C& send(C& call) {
    coordinator->handle(call.ex);
    return call;
  }
  bool loaded(int32_t partitions) {
    return run_until([&] {
             for (int32_t p = 0; p < partitions; ++p)
               if (backend.logs[{"__consumer_offsets", p}].next == 0) return false;
             return true;
           }) &&
           run_until([&] { return coordinator->status_of("g") != "loading"; });
  }
};

using JoinCall = Call<kafka::JoinGroupRequest, kafka::JoinGroupResponse>;
using SyncCall = Call<kafka::SyncGroupRequest, kafka::SyncGroupResponse>;
using HeartbeatCall = Call<kafka::HeartbeatRequest, kafka::HeartbeatResponse>;
using CommitCall = Call<kafka::OffsetCommitRequest, kafka::OffsetCommitResponse>;
using FetchCall = Call<kafka::OffsetFetchRequest, kafka::OffsetFetchResponse>;
using FindCall = Call<kafka::FindCoordinatorRequest, kafka::FindCoordinatorResponse>;

kafka::JoinGroupRequest join_request(std::string_view member_id) {
  static const std::string metadata("\x00\x01\x00\x00\x00\x01\x00\x01t\xff\xff\xff\xff", 13);
  kafka::JoinGroupRequest r;
  r.group_id = "g";
  r.session_timeout_ms = 10000;
  r.rebalance_timeout_ms = 10000;
  r.member_id = member_id;
  r.protocol_type = "consumer";
  r.protocols.push_back({"range", metadata});
  return r;
}

kafka::OffsetCommitRequest commit_request(int64_t offset, int32_t generation = -1,
                                          std::string_view member = "") {
  kafka::OffsetCommitRequest r;
  r.group_id = "g";
  r.generation_id = generation;
  r.member_id = member;
  r.topics.push_back({"t", {{0, offset, -1, std::string_view("m")}}});
  return r;
}

FetchCall fetch_call() {
  kafka::OffsetFetchRequest r;
  r.group_id = "g";
  r.topics = std::vector<kafka::OffsetFetchRequest::Topic>{{"t", {0}}};
  return FetchCall(r, 1);
}

}  // namespace

TEST_CASE("FindCoordinator creates __consumer_offsets, then names the partition leader") {
  Fixture f;
  publish(f.view, cluster::MetadataImage{});
  f.coordinator->start();
  kafka::FindCoordinatorRequest req;
  req.key = "g";
  FindCall before(req, 1);
  f.send(before);
  REQUIRE(before.answered);
  CHECK(before.resp.error_code == ErrorCode::kCoordinatorNotAvailable);
  REQUIRE(f.controller.created.size() == 1);
  CHECK(f.controller.created[0].name == "__consumer_offsets");
  CHECK(f.controller.created[0].partitions == 4);
  // Capped at the live brokers (none registered yet), but never below 1.
  CHECK(f.controller.created[0].replication_factor == 1);

  publish(f.view, image_with_offsets(4, 2));
  FindCall after(req, 1);
  f.send(after);
  CHECK(after.resp.error_code == ErrorCode::kNone);
  CHECK(after.resp.node_id == 2);
  CHECK(after.resp.port == 9093);
}

TEST_CASE("group APIs answer NOT_COORDINATOR, then LOAD_IN_PROGRESS, then serve") {
  Fixture f;
  publish(f.view, image_with_offsets(4, 2));  // broker 2 leads every offsets partition
  f.coordinator->start();
  HeartbeatCall hb({"g", 1, "m", std::nullopt}, 1);
  f.send(hb);
  CHECK(hb.resp.error_code == ErrorCode::kNotCoordinator);
  HeartbeatCall empty({"", 1, "m", std::nullopt}, 1);
  f.send(empty);
  CHECK(empty.resp.error_code == ErrorCode::kInvalidGroupId);

  f.backend.hold = true;  // the load marker is not acknowledged yet
  publish(f.view, image_with_offsets(4, kSelf));
  JoinCall loading(join_request(""), 5);
  f.send(loading);
  CHECK(loading.resp.error_code == ErrorCode::kCoordinatorLoadInProgress);

  f.backend.hold = false;
  f.backend.ack_all();
  REQUIRE(f.loaded(4));
  JoinCall first(join_request(""), 5);
  f.send(first);
  REQUIRE(first.answered);
  CHECK(first.resp.error_code == ErrorCode::kMemberIdRequired);  // KIP-394 (v4+)
  CHECK(first.resp.member_id.rfind("client-", 0) == 0);

  JoinCall second(join_request(first.resp.member_id), 5);
  f.send(second);
  REQUIRE(f.run_until([&] { return second.answered; }));
  CHECK(second.resp.error_code == ErrorCode::kNone);
  CHECK(second.resp.generation_id == 1);
  CHECK(second.resp.leader == first.resp.member_id);
  CHECK(second.resp.members.size() == 1);

  kafka::SyncGroupRequest sreq;
  sreq.group_id = "g";
  sreq.generation_id = 1;
  sreq.member_id = second.resp.member_id;
  sreq.assignments.push_back({second.resp.member_id, "assignment-bytes"});
  f.backend.hold = true;
  SyncCall sync(sreq, 3);
  f.send(sync);
  // The assignment is answered only once the group metadata is acknowledged.
  CHECK_FALSE(sync.answered);
  f.backend.ack_all();
  REQUIRE(sync.answered);
  CHECK(sync.resp.error_code == ErrorCode::kNone);
  CHECK(sync.resp.assignment == "assignment-bytes");

  HeartbeatCall stale({"g", 0, second.resp.member_id, std::nullopt}, 1);
  f.send(stale);
  CHECK(stale.resp.error_code == ErrorCode::kIllegalGeneration);
  HeartbeatCall unknown({"g", 1, "nobody", std::nullopt}, 1);
  f.send(unknown);
  CHECK(unknown.resp.error_code == ErrorCode::kUnknownMemberId);
}

TEST_CASE("a commit is answered after its acks=-1 append; a new leader loads it") {
  Fixture f;
  publish(f.view, image_with_offsets(4, kSelf));
  f.coordinator->start();
  REQUIRE(f.loaded(4));
  f.backend.hold = true;
  CommitCall commit(commit_request(42), 2);
  f.send(commit);
  CHECK_FALSE(commit.answered);
  FetchCall early = fetch_call();
  f.send(early);
  CHECK(early.resp.topics[0].partitions[0].committed_offset == -1);  // not acknowledged yet
  f.backend.ack_all();
  REQUIRE(commit.answered);
  CHECK(commit.resp.topics[0].partitions[0].error_code == ErrorCode::kNone);
  FetchCall fetch = fetch_call();
  f.send(fetch);
  CHECK(fetch.resp.topics[0].partitions[0].committed_offset == 42);
  f.backend.hold = false;

  // A commit naming a member the (Empty) group does not have is refused.
  CommitCall stale(commit_request(43, 5, "ghost"), 2);
  f.send(stale);
  CHECK(stale.resp.topics[0].partitions[0].error_code == ErrorCode::kUnknownMemberId);

  // Leadership moves away: the group is dropped.
  publish(f.view, image_with_offsets(4, 2, 1));
  FetchCall gone = fetch_call();
  f.send(gone);
  CHECK(gone.resp.topics[0].partitions[0].error_code == ErrorCode::kNotCoordinator);

  // A fresh coordinator on the same log (a failover) loads the commit.
  f.coordinator->stop();
  f.coordinator =
      std::make_unique<group::Coordinator>(f.io, f.options, f.backend, f.view, f.controller);
  publish(f.view, image_with_offsets(4, kSelf, 2));
  f.coordinator->start();
  REQUIRE(f.run_until([&] { return f.coordinator->status_of("g").empty(); }));
  FetchCall loaded = fetch_call();
  f.send(loaded);
  CHECK(loaded.resp.topics[0].partitions[0].committed_offset == 42);
  CHECK(loaded.resp.topics[0].partitions[0].metadata == "m");
  auto detail = f.coordinator->describe("g");
  REQUIRE(detail);
  CHECK(detail->state == "Empty");
  REQUIRE(detail->offsets.size() == 1);
  CHECK(detail->offsets[0].lag == 100 - 42);
}

TEST_CASE("a parked JoinGroup learns NOT_COORDINATOR when leadership moves") {
  Fixture f;
  f.options.group_initial_rebalance_delay_ms = 60000;  // keep the join parked
  f.coordinator =
      std::make_unique<group::Coordinator>(f.io, f.options, f.backend, f.view, f.controller);
  publish(f.view, image_with_offsets(4, kSelf));
  f.coordinator->start();
  REQUIRE(f.loaded(4));
  JoinCall join(join_request(""), 3);  // v3: no MEMBER_ID_REQUIRED round
  f.send(join);
  CHECK_FALSE(join.answered);
  publish(f.view, image_with_offsets(4, 2, 1));
  REQUIRE(join.answered);
  CHECK(join.resp.error_code == ErrorCode::kNotCoordinator);
}

TEST_CASE("OffsetDelete refuses subscribed topics; ListGroups and DescribeGroups report state") {
  using DeleteCall = Call<kafka::OffsetDeleteRequest, kafka::OffsetDeleteResponse>;
  using ListCall = Call<kafka::ListGroupsRequest, kafka::ListGroupsResponse>;
  using DescribeCall = Call<kafka::DescribeGroupsRequest, kafka::DescribeGroupsResponse>;
  using LeaveCall = Call<kafka::LeaveGroupRequest, kafka::LeaveGroupResponse>;
  Fixture f;
  publish(f.view, image_with_offsets(4, kSelf));
  f.coordinator->start();
  REQUIRE(f.loaded(4));
  JoinCall join(join_request(""), 3);
  f.send(join);
  REQUIRE(f.run_until([&] { return join.answered; }));
  const std::string member = join.resp.member_id;
  kafka::SyncGroupRequest sreq;
  sreq.group_id = "g";
  sreq.generation_id = join.resp.generation_id;
  sreq.member_id = member;
  SyncCall sync(sreq, 3);
  f.send(sync);
  REQUIRE(sync.answered);
  CommitCall commit(commit_request(9, join.resp.generation_id, member), 2);
  f.send(commit);
  REQUIRE(commit.answered);
  CHECK(commit.resp.topics[0].partitions[0].error_code == ErrorCode::kNone);

  kafka::OffsetDeleteRequest dreq;
  dreq.group_id = "g";
  dreq.topics.push_back({"t", {0}});
  DeleteCall subscribed(dreq, 0);
  f.send(subscribed);
  CHECK(subscribed.resp.topics[0].partitions[0].error_code == ErrorCode::kGroupSubscribedToTopic);

  ListCall list(kafka::ListGroupsRequest{}, 4);
  f.send(list);
  REQUIRE(list.resp.groups.size() == 1);
  CHECK(list.resp.groups[0].group_state == "Stable");
  kafka::DescribeGroupsRequest describe_req;
  describe_req.groups = {"g", "other"};
  DescribeCall describe(describe_req, 4);
  f.send(describe);
  REQUIRE(describe.resp.groups.size() == 2);
  CHECK(describe.resp.groups[0].group_state == "Stable");
  CHECK(describe.resp.groups[0].protocol_data == "range");
  REQUIRE(describe.resp.groups[0].members.size() == 1);
  CHECK(describe.resp.groups[0].members[0].client_id == "client");
  CHECK(describe.resp.groups[1].group_state == "Dead");  // unknown group

  kafka::LeaveGroupRequest lreq;
  lreq.group_id = "g";
  lreq.member_id = member;
  LeaveCall leave(lreq, 1);
  f.send(leave);
  CHECK(leave.resp.error_code == ErrorCode::kNone);
  REQUIRE(f.run_until([&] { return f.coordinator->describe("g")->state == "Empty"; }));

  DeleteCall deleted(dreq, 0);
  f.send(deleted);
  REQUIRE(f.run_until([&] { return deleted.answered; }));
  CHECK(deleted.resp.error_code == ErrorCode::kNone);
  CHECK(deleted.resp.topics[0].partitions[0].error_code == ErrorCode::kNone);
  FetchCall fetch = fetch_call();
  f.send(fetch);
  CHECK(fetch.resp.topics[0].partitions[0].committed_offset == -1);

  dreq.group_id = "nope";
  DeleteCall unknown(dreq, 0);
  f.send(unknown);
  CHECK(unknown.resp.error_code == ErrorCode::kGroupIdNotFound);
}
