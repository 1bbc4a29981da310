// The Kafka listener on its own, with a backend that hosts nothing: idle
// connections are reaped (connections.max.idle.ms), busy ones are not.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <asio.hpp>
#include <future>
#include <thread>

#include "common/log.h"
#include "kafka/protocol/request.h"
#include "kafka/server/server.h"

using namespace dmq;
using namespace dmq::kafka;

namespace {

class EmptyBackend : public Backend {
 public:
  BrokerId node_id() const override { return BrokerId(1); }
  Image metadata() const override { return std::make_shared<cluster::MetadataImage>(); }
  void wait_for_metadata(std::function<bool(const cluster::MetadataImage&)>,
                         std::chrono::milliseconds, std::function<void(bool)> done) override {
    done(false);
  }
  ProduceTarget produce_target(std::string_view, PartitionId, Acks) const override {
    return {ErrorCode::kUnknownTopicOrPartition};
  }
  void produce(std::string_view, PartitionId, const ValidatedBatch&, Acks,
               std::function<void(const ProduceResult&)> done) override {
    done({ErrorCode::kUnknownTopicOrPartition});
  }
  FetchRead fetch(std::string_view, PartitionId, Offset, uint32_t, BrokerId, LeaderEpoch) override {
    return {ErrorCode::kUnknownTopicOrPartition};
  }
  void park(const std::vector<TopicPartition>&, std::chrono::milliseconds, BrokerId,
            std::function<void()> wake) override {
    wake();
  }
  OffsetLookup list_offset(std::string_view, PartitionId, int64_t) override {
    return {ErrorCode::kUnknownTopicOrPartition};
  }
};

class NoController : public broker::ControllerClient {
 public:
  void create_topic(const broker::TopicSpec&, bool, Done done) override { done({}); }
  void delete_topic(const std::string&, Done done) override { done({}); }
  void create_partitions(const std::string&, int32_t, bool, Done done) override { done({}); }
};

}  // namespace

TEST_CASE("kafka server: idle connections are reaped, the listener keeps accepting") {
  log::configure(log::Level::kWarn, log::Format::kText);
  asio::io_context io;
  Options options;
  EmptyBackend backend;
  NoController controller;
  HandlerContext ctx{io, options, backend, controller, "dmq", {}, {}};
  Server server(io, ctx, std::chrono::milliseconds(100));
  REQUIRE(server.start({"127.0.0.1", 0}) == "");
  std::thread loop([&] { io.run(); });

  for (int round = 0; round < 2; ++round) {
    asio::io_context cio;
    asio::ip::tcp::socket s(cio);
    s.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    timeval tv{10, 0};  // bound: the reaper runs every ~50 ms
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    asio::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);  // blocks until the server closes
    CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
  }

  std::promise<size_t> open;
  asio::post(io, [&] {
    open.set_value(server.connection_count());
    server.stop();
  });
  CHECK(open.get_future().get() == 0);
  io.stop();
  loop.join();
}
