// InitProducerId through dispatch(): encoded requests in, decoded responses
// out, against a fake Backend whose init_producer_id the test answers.
#include <doctest/doctest.h>

#include <asio.hpp>
#include <optional>

#include "kafka/protocol/request.h"
#include "kafka/server/handlers.h"

using namespace dmq;
using namespace dmq::kafka;

namespace {

class FakeBackend : public Backend {
 public:
  BrokerId node_id() const override { return BrokerId(1); }
  Image metadata() const override { return image; }
  void wait_for_metadata(std::function<bool(const cluster::MetadataImage&)>,
                         std::chrono::milliseconds, std::function<void(bool)> done) override {
    done(false);
  }
  ProduceTarget produce_target(std::string_view, PartitionId, Acks) const override {
    return {ErrorCode::kNotLeaderOrFollower};
  }
  void produce(std::string_view, PartitionId, const ValidatedBatch&, Acks,
               std::function<void(const ProduceResult&)> done) override {
    done({ErrorCode::kNotLeaderOrFollower});
  }
  FetchRead fetch(std::string_view, PartitionId, Offset, uint32_t, BrokerId, LeaderEpoch) override {
    return FetchRead{ErrorCode::kNotLeaderOrFollower};
  }
  void park(const std::vector<TopicPartition>&, std::chrono::milliseconds, BrokerId,
            std::function<void()> wake) override {
    wake();
  }
  OffsetLookup list_offset(std::string_view, PartitionId, int64_t) override {
    return {ErrorCode::kNotLeaderOrFollower};
  }
  void init_producer_id(std::function<void(const ProducerIdResult&)> done) override {
    ++calls;
    pending = std::move(done);
  }

  std::shared_ptr<cluster::MetadataImage> image = std::make_shared<cluster::MetadataImage>();
  int calls = 0;
  std::function<void(const ProducerIdResult&)> pending;
};

class NoController : public broker::ControllerClient {
 public:
  void create_topic(const broker::TopicSpec&, bool, Done) override {}
  void delete_topic(const std::string&, Done) override {}
  void create_partitions(const std::string&, int32_t, bool, Done) override {}
};

struct Fixture {
  Fixture() { backend.image->next_producer_id = cluster::ProducerId(2000); }

  // Sends `req` at `version` through dispatch; the decoded answer, or
  // nullopt while the handler has not answered.
  void send(int16_t version, const InitProducerIdRequest& req) {
    answer.reset();
    version_ = version;
    EncodedFrame frame = encode_request(version, 7, std::string_view("test"), req);
    auto ex = std::make_shared<Exchange>();
    ex->frame = std::make_shared<std::string>(frame.bytes.substr(4));
    REQUIRE(decode_request(*ex->frame, ex->request) == CodecError::kOk);
    ex->respond = [this](Response r) {
      REQUIRE_FALSE(answer.has_value());  // exactly once
      int32_t corr = 0;
      InitProducerIdResponse resp;
      REQUIRE(decode_response(std::string_view(r.frame.bytes).substr(4), version_, corr, resp) ==
              CodecError::kOk);
      CHECK(corr == 7);
      CHECK(r.error == resp.error_code);
      answer = resp;
    };
    dispatch(ctx, ex);
  }

  asio::io_context io;
  Options options;
  FakeBackend backend;
  NoController controller;
  HandlerContext ctx{io, options, backend, controller, "dmq", {}, {}};
  std::optional<InitProducerIdResponse> answer;
  int16_t version_ = 0;
};

InitProducerIdRequest idempotent(int64_t producer_id = -1, int16_t producer_epoch = -1) {
  InitProducerIdRequest r;
  r.transactional_id = std::nullopt;
  r.transaction_timeout_ms = -1;
  r.producer_id = producer_id;
  r.producer_epoch = producer_epoch;
  return r;
}

}  // namespace

TEST_CASE("InitProducerId is advertised for v0-4") {
  const ApiInfo* api = find_api(ApiKey::kInitProducerId);
  REQUIRE(api != nullptr);
  CHECK(api->min_version == 0);
  CHECK(api->max_version == 4);
}

TEST_CASE("an idempotent producer gets the id the backend allocates, at every version") {
  for (int16_t v = 0; v <= 4; ++v) {
    CAPTURE(v);
    Fixture f;
    f.send(v, idempotent());
    CHECK_FALSE(f.answer.has_value());  // waits for the allocator
    REQUIRE(f.backend.calls == 1);
    f.backend.pending({ErrorCode::kNone, broker::ProducerId(1234), 0});
    REQUIRE(f.answer.has_value());
    CHECK(f.answer->error_code == ErrorCode::kNone);
    CHECK(f.answer->producer_id == 1234);
    CHECK(f.answer->producer_epoch == 0);
  }
}

TEST_CASE("an allocator error reaches the client with no id") {
  Fixture f;
  f.send(4, idempotent());
  f.backend.pending({ErrorCode::kCoordinatorLoadInProgress, broker::ProducerId(-1), -1});
  REQUIRE(f.answer.has_value());
  CHECK(f.answer->error_code == ErrorCode::kCoordinatorLoadInProgress);
  CHECK(f.answer->producer_id == -1);
  CHECK(f.answer->producer_epoch == -1);
}

TEST_CASE("a transactional id is refused with a fatal error; an empty one is invalid") {
  Fixture f;
  auto req = idempotent();
  req.transactional_id = "orders-tx";
  req.transaction_timeout_ms = 60000;
  f.send(1, req);
  REQUIRE(f.answer.has_value());
  CHECK(f.answer->error_code == ErrorCode::kTransactionalIdAuthorizationFailed);
  CHECK(f.answer->producer_id == -1);

  req.transactional_id = "";
  f.send(4, req);
  REQUIRE(f.answer.has_value());
  CHECK(f.answer->error_code == ErrorCode::kInvalidRequest);
  CHECK(f.backend.calls == 0);
}

TEST_CASE("KIP-360: an existing producer id gets its epoch bumped without a new id") {
  Fixture f;
  f.send(3, idempotent(1500, 4));
  REQUIRE(f.answer.has_value());
  CHECK(f.answer->error_code == ErrorCode::kNone);
  CHECK(f.answer->producer_id == 1500);
  CHECK(f.answer->producer_epoch == 5);
  CHECK(f.backend.calls == 0);

  f.send(4, idempotent(0, 32765));
  REQUIRE(f.answer.has_value());
  CHECK(f.answer->producer_id == 0);
  CHECK(f.answer->producer_epoch == 32766);
}

TEST_CASE("KIP-360: an exhausted epoch or an id never allocated gets a fresh id") {
  Fixture f;
  f.send(3, idempotent(1500, 32766));
  CHECK_FALSE(f.answer.has_value());
  REQUIRE(f.backend.calls == 1);
  f.backend.pending({ErrorCode::kNone, broker::ProducerId(1999), 0});
  REQUIRE(f.answer.has_value());
  CHECK(f.answer->producer_id == 1999);
  CHECK(f.answer->producer_epoch == 0);

  f.send(4, idempotent(2000, 1));  // at the image's next block: never handed out
  CHECK(f.backend.calls == 2);
}

TEST_CASE("KIP-360: producer id and epoch must both be set or both be -1") {
  Fixture f;
  f.send(3, idempotent(1500, -1));
  REQUIRE(f.answer.has_value());
  CHECK(f.answer->error_code == ErrorCode::kInvalidRequest);
  f.send(3, idempotent(-1, 2));
  REQUIRE(f.answer.has_value());
  CHECK(f.answer->error_code == ErrorCode::kInvalidRequest);
  f.send(3, idempotent(-7, -7));
  REQUIRE(f.answer.has_value());
  CHECK(f.answer->error_code == ErrorCode::kInvalidRequest);
  CHECK(f.backend.calls == 0);
}
