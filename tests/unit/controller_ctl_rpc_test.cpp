// The controller RPCs for replication as both ends see them: the body
// HttpControllerClient sends for AlterPartition is the one the controller
// parses, malformed bodies are refused by name, and the client delivers the
// controller's answers (success bodies, JSON errors) on the event loop.
#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <mutex>
#include <thread>

#include <asio.hpp>

#include "broker/http_controller_client.h"
#include "controller/controller_service.h"
#include "net/event_loop.h"

using namespace dmq;

namespace {

broker::AlterPartitionSpec sample_spec() {
  broker::AlterPartitionSpec spec;
  spec.broker_id = 3;
  spec.broker_epoch = (int64_t{1} << 40) + 7;  // epochs are Raft indexes: beyond 32 bits
  spec.topic = "orders \"eu\"";
  spec.partition = 5;
  spec.leader_epoch = 9;
  spec.partition_epoch = 12;
  spec.isr = {3, 1};
  return spec;
}

cluster::Result<cluster::AlterPartitionRequest> parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE(!doc.HasParseError());
  return controller::parse_alter_partition_request(doc);
}

// An HTTP server on a free loopback port that records what it receives and
// answers with whatever the test set.
struct FakeController {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> seen;  // path, body
  int status = 200;
  std::string answer;

  FakeController() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      seen.emplace_back(req.path, req.body);
      res.status = status;
      res.set_content(answer, "application/json");
    };
    server.Post("/internal/partitions/alter", handler);
    server.Post("/internal/producer-ids", handler);
    port = server.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    // Bound and listening: connections queue until the accept loop runs.
  }
  ~FakeController() {
    server.stop();
    thread.join();
  }
};

// Runs the loop until the client's callback was posted and ran.
broker::AdminResult await(net::EventLoop& loop, const std::optional<broker::AdminResult>& result) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!result && std::chrono::steady_clock::now() < deadline) {
    loop.context().run_one_for(std::chrono::milliseconds(100));
  }
  REQUIRE(result.has_value());
  return *result;
}

}  // namespace

TEST_CASE("the AlterPartition body the client sends is the request the controller reads") {
  auto spec = sample_spec();
  auto parsed = parse(broker::alter_partition_body(spec));
  REQUIRE(parsed.ok());
  const auto& r = parsed.value();
  CHECK(r.broker == cluster::BrokerId{3});
  CHECK(r.broker_epoch == cluster::BrokerEpoch{spec.broker_epoch});
  CHECK(r.topic == spec.topic);
  CHECK(r.partition == cluster::PartitionId{5});
  CHECK(r.leader_epoch == cluster::LeaderEpoch{9});
  CHECK(r.partition_epoch == cluster::PartitionEpoch{12});
  CHECK(r.new_isr == std::vector<cluster::BrokerId>{cluster::BrokerId{3}, cluster::BrokerId{1}});
}

TEST_CASE("the answer is the state the change commits: next partition epoch, same leader") {
  auto parsed = parse(broker::alter_partition_body(sample_spec()));
  REQUIRE(parsed.ok());
  CHECK(controller::altered_partition_json(parsed.value()) ==
        "{\"leader\":3,\"leader_epoch\":9,\"partition_epoch\":13,\"isr\":[3,1]}");
}

TEST_CASE("malformed AlterPartition bodies are refused, naming the field") {
  const std::string good =
      R"({"broker_id":1,"broker_epoch":2,"topic":"t","partition":0,"leader_epoch":0,)"
      R"("partition_epoch":0,"isr":[1]})";
  REQUIRE(parse(good).ok());
  struct Case {
    std::string body;
    std::string field;
  };
  const Case cases[] = {
      {R"({"broker_epoch":2,"topic":"t","partition":0,"leader_epoch":0,"partition_epoch":0,"isr":[1]})",
       "broker_id"},
      {R"({"broker_id":-1,"broker_epoch":2,"topic":"t","partition":0,"leader_epoch":0,"partition_epoch":0,"isr":[1]})",
       "broker_id"},
      {R"({"broker_id":1,"broker_epoch":"2","topic":"t","partition":0,"leader_epoch":0,"partition_epoch":0,"isr":[1]})",
       "broker_epoch"},
      {R"({"broker_id":1,"broker_epoch":2,"topic":7,"partition":0,"leader_epoch":0,"partition_epoch":0,"isr":[1]})",
       "topic"},
      {R"({"broker_id":1,"broker_epoch":2,"topic":"t","partition":4294967296,"leader_epoch":0,"partition_epoch":0,"isr":[1]})",
       "partition"},
      {R"({"broker_id":1,"broker_epoch":2,"topic":"t","partition":0,"partition_epoch":0,"isr":[1]})",
       "leader_epoch"},
      {R"({"broker_id":1,"broker_epoch":2,"topic":"t","partition":0,"leader_epoch":0,"partition_epoch":1.5,"isr":[1]})",
       "partition_epoch"},
      {R"({"broker_id":1,"broker_epoch":2,"topic":"t","partition":0,"leader_epoch":0,"partition_epoch":0})",
       "isr"},
      {R"({"broker_id":1,"broker_epoch":2,"topic":"t","partition":0,"leader_epoch":0,"partition_epoch":0,"isr":{}})",
       "isr"},
      {R"({"broker_id":1,"broker_epoch":2,"topic":"t","partition":0,"leader_epoch":0,"partition_epoch":0,"isr":[1,-2]})",
       "isr"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto r = parse(c.body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == cluster::ErrorCode::kInvalidRequest);
    CHECK(r.error().message.find("\"" + c.field + "\"") != std::string::npos);
  }
}

TEST_CASE("HttpControllerClient posts the replication RPCs and hands back the answers") {
  FakeController controller;
  net::EventLoop loop;
  broker::HttpControllerClient client(loop, {Voter{1, {"127.0.0.1", uint16_t(controller.port)}}});

  SUBCASE("alter_partition: the committed state on success") {
    controller.answer = R"({"leader":3,"leader_epoch":9,"partition_epoch":13,"isr":[3,1]})";
    std::optional<broker::AdminResult> result;
    client.alter_partition(sample_spec(), [&](const broker::AdminResult& r) { result = r; });
    auto r = await(loop, result);
    CHECK(r.ok());
    CHECK(r.http_status == 200);
    CHECK(r.body == controller.answer);
    std::lock_guard lock(controller.mutex);
    REQUIRE(controller.seen.size() == 1);
    CHECK(controller.seen[0].first == "/internal/partitions/alter");
    CHECK(controller.seen[0].second == broker::alter_partition_body(sample_spec()));
  }
  SUBCASE("alter_partition: a refusal carries the controller's code") {
    controller.status = 409;
    controller.answer =
        R"({"error":{"code":"stale_partition_epoch","message":"partition epoch is 14"}})";
    std::optional<broker::AdminResult> result;
    client.alter_partition(sample_spec(), [&](const broker::AdminResult& r) { result = r; });
    auto r = await(loop, result);
    CHECK_FALSE(r.ok());
    CHECK(r.http_status == 409);
    CHECK(r.code == "stale_partition_epoch");
    CHECK(r.message == "partition epoch is 14");
  }
  SUBCASE("allocate_producer_ids") {
    controller.answer = R"({"first_producer_id":4000,"count":1000})";
    std::optional<broker::AdminResult> result;
    client.allocate_producer_ids(7, int64_t{1} << 35,
                                 [&](const broker::AdminResult& r) { result = r; });
    auto r = await(loop, result);
    CHECK(r.ok());
    CHECK(r.body == controller.answer);
    std::lock_guard lock(controller.mutex);
    REQUIRE(controller.seen.size() == 1);
    CHECK(controller.seen[0].first == "/internal/producer-ids");
    CHECK(controller.seen[0].second == "{\"broker_id\":7,\"broker_epoch\":34359738368}");
  }
  client.stop();
}

TEST_CASE("HttpControllerClient reports no_controller when none answers") {
  // A port that was free a moment ago and is closed now: connections are refused.
  uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  net::EventLoop loop;
  broker::HttpControllerClient client(loop, {Voter{1, {"127.0.0.1", uint16_t(port)}}});
  std::optional<broker::AdminResult> result;
  client.allocate_producer_ids(1, 1, [&](const broker::AdminResult& r) { result = r; });
  auto r = await(loop, result);
  CHECK(r.http_status == 0);
  CHECK(r.code == "no_controller");
  client.stop();
}
