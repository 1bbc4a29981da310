// ProducerIdAllocator against a fake controller client whose answers the test
// releases one by one: blocks, prefetch at 10% left, queued callers, one
// request in flight, retriable errors, and refusal of blocks that go back.
#include <doctest/doctest.h>

#include <asio.hpp>
#include <deque>
#include <string>
#include <vector>

#include "broker/metadata_view.h"
#include "broker/producer_ids.h"
#include "common/log.h"

using namespace dmq;
using broker::AdminResult;
using broker::ProducerIdResult;
using kafka::ErrorCode;

namespace {

const bool kQuietLogs = [] {
  log::configure(log::Level::kError, log::Format::kText);
  return true;
}();

// Keeps every allocate_producer_ids call until the test answers it.
class FakeController : public broker::ControllerClient {
 public:
  struct Call {
    int32_t broker_id;
    int64_t broker_epoch;
    Done done;
  };
  void create_topic(const broker::TopicSpec&, bool, Done) override {}
  void delete_topic(const std::string&, Done) override {}
  void create_partitions(const std::string&, int32_t, bool, Done) override {}
  void allocate_producer_ids(int32_t broker_id, int64_t broker_epoch, Done done) override {
    calls.push_back({broker_id, broker_epoch, std::move(done)});
  }
  void grant(int64_t first, int64_t count) {
    REQUIRE(!calls.empty());
    auto call = std::move(calls.front());
    calls.pop_front();
    call.done({200, "", "",
               "{\"first_producer_id\":" + std::to_string(first) +
                   ",\"count\":" + std::to_string(count) + "}"});
  }
  void refuse(AdminResult result) {
    REQUIRE(!calls.empty());
    auto call = std::move(calls.front());
    calls.pop_front();
    call.done(result);
  }
  std::deque<Call> calls;
};

struct Fixture {
  Fixture() {
    cluster::MetadataImage image;
    cluster::BrokerRegistration b;
    b.id = cluster::BrokerId(1);
    b.epoch = cluster::BrokerEpoch(42);
    b.fenced = false;
    image.brokers[b.id] = b;
    view.publish(std::make_shared<const cluster::MetadataState>(image, cluster::LogIndex(1)));
  }
  // Asks for an id; the answer lands in `results` once the loop runs.
  void ask() {
    allocator.init_producer_id([this](const ProducerIdResult& r) { results.push_back(r); });
  }
  std::vector<ProducerIdResult> run() {
    io.restart();
    io.poll();
    return std::exchange(results, {});
  }

  asio::io_context io;
  broker::MetadataView view;
  FakeController controller;
  broker::ProducerIdAllocator allocator{io, controller, view, 1};
  std::vector<ProducerIdResult> results;
};

}  // namespace

TEST_CASE("the first caller waits for a block; ids then come from it in order, epoch 0") {
  Fixture f;
  f.ask();
  f.ask();
  CHECK(f.run().empty());                   // nobody answered before the block arrives
  REQUIRE(f.controller.calls.size() == 1);  // one request for both callers
  CHECK(f.controller.calls.front().broker_id == 1);
  CHECK(f.controller.calls.front().broker_epoch == 42);

  f.controller.grant(1000, 100);
  auto r = f.run();
  REQUIRE(r.size() == 2);
  CHECK(r[0].error == ErrorCode::kNone);
  CHECK(r[0].producer_id.value == 1000);
  CHECK(r[0].producer_epoch == 0);
  CHECK(r[1].producer_id.value == 1001);
  f.ask();
  r = f.run();
  REQUIRE(r.size() == 1);
  CHECK(r[0].producer_id.value == 1002);
  CHECK(f.controller.calls.empty());  // 97 left: no prefetch yet
}

TEST_CASE("answers are posted, never given inside init_producer_id") {
  Fixture f;
  f.ask();
  f.controller.grant(0, 10);
  f.run();
  f.ask();
  CHECK(f.results.empty());
  CHECK(f.run().size() == 1);
}

TEST_CASE("the next block is prefetched once 10% of the current one is left") {
  Fixture f;
  f.ask();
  f.controller.grant(1000, 100);
  f.run();
  for (int i = 0; i < 89; ++i) f.ask();  // ids 1001..1089: 10 left after this
  REQUIRE(f.run().size() == 89);
  REQUIRE(f.allocator.ids_left_in_current_block() == 10);
  CHECK(f.controller.calls.size() == 1);  // asked when 10 were left
  f.controller.grant(5000, 100);
  CHECK(f.allocator.has_next_block());

  for (int i = 0; i < 11; ++i) f.ask();
  auto r = f.run();
  REQUIRE(r.size() == 11);
  CHECK(r[9].producer_id.value == 1099);
  CHECK(r[10].producer_id.value == 5000);  // straight into the prefetched block
  CHECK(f.controller.calls.empty());
}

TEST_CASE("callers beyond the block wait for the next one, one request at a time") {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.ask();
  REQUIRE(f.controller.calls.size() == 1);
  f.controller.grant(10, 2);  // only two ids
  auto r = f.run();
  REQUIRE(r.size() == 2);
  CHECK(f.allocator.waiting() == 3);
  REQUIRE(f.controller.calls.size() == 1);  // asked again for the rest
  f.controller.grant(20, 10);
  r = f.run();
  REQUIRE(r.size() == 3);
  CHECK(r[0].producer_id.value == 20);
  CHECK(r[2].producer_id.value == 22);
}

TEST_CASE("controllers out of reach give waiters a retriable error, and the next call retries") {
  Fixture f;
  f.ask();
  f.ask();
  f.controller.refuse({0, "unavailable", "no controller answered", ""});
  auto r = f.run();
  REQUIRE(r.size() == 2);
  CHECK(r[0].error == ErrorCode::kCoordinatorLoadInProgress);
  CHECK(r[1].error == ErrorCode::kCoordinatorLoadInProgress);
  CHECK(r[0].producer_id.value == -1);
  CHECK_FALSE(f.allocator.request_in_flight());

  f.ask();
  REQUIRE(f.controller.calls.size() == 1);
  f.controller.grant(300, 10);
  r = f.run();
  REQUIRE(r.size() == 1);
  CHECK(r[0].producer_id.value == 300);
}

TEST_CASE("an unusable or backwards block is refused") {
  Fixture f;
  f.ask();
  f.controller.refuse({200, "", "", "{\"first_producer_id\":\"x\"}"});
  CHECK(f.run()[0].error == ErrorCode::kCoordinatorLoadInProgress);

  f.ask();
  f.controller.grant(1000, 1);
  CHECK(f.run()[0].producer_id.value == 1000);
  f.ask();
  f.controller.grant(500, 10);  // below ids already handed out
  auto r = f.run();
  REQUIRE(r.size() == 1);
  CHECK(r[0].error == ErrorCode::kCoordinatorLoadInProgress);
  f.ask();
  f.controller.grant(1001, 0);  // empty
  CHECK(f.run()[0].error == ErrorCode::kCoordinatorLoadInProgress);
}

TEST_CASE("a broker missing from the metadata gets the retriable error without a request") {
  asio::io_context io;
  broker::MetadataView view;
  FakeController controller;
  broker::ProducerIdAllocator allocator(io, controller, view, 7);
  std::vector<ProducerIdResult> results;
  allocator.init_producer_id([&](const ProducerIdResult& r) { results.push_back(r); });
  io.poll();
  REQUIRE(results.size() == 1);
  CHECK(results[0].error == ErrorCode::kCoordinatorLoadInProgress);
  CHECK(controller.calls.empty());
}

TEST_CASE("an answer arriving after the allocator is gone is ignored") {
  asio::io_context io;
  broker::MetadataView view;
  FakeController controller;
  {
    cluster::MetadataImage image;
    cluster::BrokerRegistration b;
    b.id = cluster::BrokerId(1);
    image.brokers[b.id] = b;
    view.publish(std::make_shared<const cluster::MetadataState>(image, cluster::LogIndex(1)));
    broker::ProducerIdAllocator allocator(io, controller, view, 1);
    allocator.init_producer_id([](const ProducerIdResult&) { FAIL("answered after destruction"); });
  }
  controller.grant(0, 10);
  io.poll();
}
