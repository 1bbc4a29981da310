// Every implemented API at every supported version: request and response
// round trips through whole frames, error responses, and golden bytes for the
// versions kafka-python 2.0.2 sends (it pins fixed versions, see the protocol
// notes) and for flexible versions librdkafka uses.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "kafka/protocol/request.h"
#include "kafka_test_bytes.h"

using namespace dmq::kafka;
using namespace dmq::kafka::test;

namespace {

constexpr uint64_t kSeedsPerVersion = 25;

template <class Req, class Resp>
void check_api_round_trips() {
  const ApiInfo* api = find_api(Req::kApiKey);
  REQUIRE(api != nullptr);
  for (int16_t v = api->min_version; v <= api->max_version; ++v) {
    for (uint64_t seed = 0; seed < kSeedsPerVersion; ++seed) {
      CAPTURE(api->name);
      CAPTURE(v);
      CAPTURE(seed);
      Req req;
      sample(req, v, seed);
      EncodedFrame frame = encode_request(v, static_cast<int32_t>(seed), "dmq-test", req);
      Request decoded;
      REQUIRE(decode_request(std::string_view(frame.bytes).substr(4), decoded) == CodecError::kOk);
      REQUIRE(std::holds_alternative<Req>(decoded.body));
      CHECK(decoded.header.correlation_id == static_cast<int32_t>(seed));
      EncodedFrame again =
          encode_request(v, static_cast<int32_t>(seed), "dmq-test", std::get<Req>(decoded.body));
      CHECK(hex(again.bytes) == hex(frame.bytes));

      Resp resp;
      sample(resp, v, seed + 1000);
      EncodedFrame rf = encode_response(decoded.header, resp);
      Resp back;
      int32_t corr = -1;
      REQUIRE(decode_response(std::string_view(rf.bytes).substr(4), v, corr, back) ==
              CodecError::kOk);
      CHECK(corr == static_cast<int32_t>(seed));
      CHECK(hex(encode_response(decoded.header, back).bytes) == hex(rf.bytes));

      EncodedFrame ef = encode_error_response(decoded, ErrorCode::kNotCoordinator);
      Resp err;
      REQUIRE(decode_response(std::string_view(ef.bytes).substr(4), v, corr, err) ==
              CodecError::kOk);
    }
  }
}

}  // namespace

TEST_CASE("the API table and the message list agree") {
  std::set<int16_t> listed;
#define DMQ_KAFKA_LISTED(key, req, resp) listed.insert(static_cast<int16_t>(ApiKey::key));
  DMQ_KAFKA_APIS(DMQ_KAFKA_LISTED)
#undef DMQ_KAFKA_LISTED
  std::set<int16_t> table;
  for (const auto& api : supported_apis()) {
    CHECK(api.min_version <= api.max_version);
    table.insert(static_cast<int16_t>(api.key));
  }
  CHECK(listed == table);
}

TEST_CASE("every API round-trips at every supported version") {
#define DMQ_KAFKA_ROUND_TRIP(key, req, resp) check_api_round_trips<req, resp>();
  DMQ_KAFKA_APIS(DMQ_KAFKA_ROUND_TRIP)
#undef DMQ_KAFKA_ROUND_TRIP
}

TEST_CASE("versions outside the table are refused") {
  for (const auto& api : supported_apis()) {
    Request req;
    Writer w;
    w.i16(static_cast<int16_t>(api.key));
    w.i16(static_cast<int16_t>(api.max_version + 1));
    w.i32(1);
    w.i16(-1);
    w.uvarint(0);
    CHECK(decode_request(w.bytes(), req) == CodecError::kUnsupportedVersion);
  }
}

TEST_CASE("requests as kafka-python 2.0.2 encodes them decode and re-encode identically") {
  // Bodies produced by kafka-python's protocol classes at the versions it pins.
  SUBCASE("FindCoordinator v0") {
    std::string bytes = unhex("0003673031");
    FindCoordinatorRequest r;
    REQUIRE(decode(bytes, 0, r) == CodecError::kOk);
    CHECK(r.key == "g01");
    CHECK(hex(body_bytes(r, 0)) == hex(bytes));
  }
  SUBCASE("JoinGroup v2") {
    // group "g", session 10000, rebalance 300000, member "", type "consumer",
    // protocols [("range", "\x00\x01")]
    std::string bytes =
        unhex("00016700002710000493e000000008636f6e73756d657200000001000572616e6765000000020001");
    JoinGroupRequest r;
    REQUIRE(decode(bytes, 2, r) == CodecError::kOk);
    CHECK(r.group_id == "g");
    CHECK(r.session_timeout_ms == 10000);
    CHECK(r.rebalance_timeout_ms == 300000);
    CHECK(r.member_id.empty());
    CHECK(r.protocol_type == "consumer");
    REQUIRE(r.protocols.size() == 1);
    CHECK(r.protocols[0].name == "range");
    CHECK(r.protocols[0].metadata == std::string_view("\x00\x01", 2));
    CHECK(hex(body_bytes(r, 2)) == hex(bytes));
  }
  SUBCASE("SyncGroup v1, Heartbeat v1, LeaveGroup v1") {
    std::string sync = unhex("0001670000000300016d0000000100016d000000020000");
    SyncGroupRequest s;
    REQUIRE(decode(sync, 1, s) == CodecError::kOk);
    CHECK(s.generation_id == 3);
    REQUIRE(s.assignments.size() == 1);
    CHECK(s.assignments[0].member_id == "m");
    CHECK(hex(body_bytes(s, 1)) == hex(sync));
    std::string hb = unhex("0001670000000300016d");
    HeartbeatRequest h;
    REQUIRE(decode(hb, 1, h) == CodecError::kOk);
    CHECK(h.member_id == "m");
    CHECK(hex(body_bytes(h, 1)) == hex(hb));
    std::string leave = unhex("00016700016d");
    LeaveGroupRequest l;
    REQUIRE(decode(leave, 1, l) == CodecError::kOk);
    CHECK(l.member_id == "m");
    CHECK(hex(body_bytes(l, 1)) == hex(leave));
  }
  SUBCASE("OffsetCommit v2") {
    // group "g", generation 3, member "m", retention -1, t1/0 offset 42 metadata ""
    std::string bytes = unhex(
        "0001670000000300016dffffffffffffffff00000001000274310000000100000000000000000000002a"
        "0000");
    OffsetCommitRequest r;
    REQUIRE(decode(bytes, 2, r) == CodecError::kOk);
    CHECK(r.generation_id == 3);
    CHECK(r.member_id == "m");
    CHECK(r.retention_time_ms == -1);
    CHECK(r.topics[0].partitions[0].committed_offset == 42);
    CHECK(r.topics[0].partitions[0].committed_metadata == std::optional<std::string_view>(""));
    CHECK(hex(body_bytes(r, 2)) == hex(bytes));
  }
  SUBCASE("OffsetFetch v1") {
    std::string bytes = unhex("0001670000000100027431000000020000000000000001");
    OffsetFetchRequest r;
    REQUIRE(decode(bytes, 1, r) == CodecError::kOk);
    CHECK(r.group_id == "g");
    REQUIRE(r.topics.has_value());
    CHECK(r.topics->at(0).partition_indexes == std::vector<int32_t>{0, 1});
    CHECK(hex(body_bytes(r, 1)) == hex(bytes));
  }
  SUBCASE("ListOffsets v1") {
    std::string bytes = unhex("ffffffff00000001000274310000000100000000ffffffffffffffff");
    ListOffsetsRequest r;
    REQUIRE(decode(bytes, 1, r) == CodecError::kOk);
    CHECK(r.replica_id == -1);
    CHECK(r.topics[0].partitions[0].timestamp == -1);
    CHECK(hex(body_bytes(r, 1)) == hex(bytes));
  }
}

TEST_CASE("flexible versions librdkafka uses: OffsetFetch v7, ListGroups v3, InitProducerId v2") {
  SUBCASE("OffsetFetch v7 request") {
    // group "g", topics [t1: [0]], require_stable true; compact encodings.
    std::string bytes = unhex(
        "0267"
        "02"
        "037431"
        "02"
        "00000000"
        "00"
        "01"
        "00");
    OffsetFetchRequest r;
    REQUIRE(decode(bytes, 7, r) == CodecError::kOk);
    CHECK(r.group_id == "g");
    REQUIRE(r.topics.has_value());
    CHECK(r.topics->at(0).name == "t1");
    CHECK(r.require_stable);
    CHECK(hex(body_bytes(r, 7)) == hex(bytes));
  }
  SUBCASE("OffsetFetch v7 response") {
    OffsetFetchResponse resp;
    resp.topics.push_back({"t1", {{0, 42, -1, std::string(""), ErrorCode::kNone}}});
    CHECK(hex(body_bytes(resp, 7)) ==
          "00000000"
          "02"
          "037431"
          "02"
          "00000000"
          "000000000000002a"
          "ffffffff"
          "01"
          "0000"
          "00"
          "00"
          "0000"
          "00");
  }
  SUBCASE("ListGroups v3 response") {
    ListGroupsResponse resp;
    resp.groups.push_back({"g", "consumer", ""});
    CHECK(hex(body_bytes(resp, 3)) ==
          "00000000"
          "0000"
          "02"
          "0267"
          "09636f6e73756d6572"
          "00"
          "00");
  }
  SUBCASE("InitProducerId v2 request and response") {
    InitProducerIdRequest r;
    const std::string body = unhex(
        "00"
        "00007530"
        "00");  // views point into it
    REQUIRE(decode(body, 2, r) == CodecError::kOk);
    CHECK_FALSE(r.transactional_id.has_value());
    CHECK(r.transaction_timeout_ms == 30000);
    InitProducerIdResponse resp;
    resp.producer_id = 1000;
    resp.producer_epoch = 0;
    CHECK(hex(body_bytes(resp, 2)) ==
          "00000000"
          "0000"
          "00000000000003e8"
          "0000"
          "00");
  }
}

TEST_CASE("JoinGroup protocol_name is non-nullable before v7") {
  JoinGroupResponse resp = make_error_response(JoinGroupRequest{}, 5, ErrorCode::kMemberIdRequired);
  resp.member_id = "client-1234";
  std::string b = body_bytes(resp, 5);
  JoinGroupResponse back;
  REQUIRE(decode(b, 5, back) == CodecError::kOk);
  CHECK(back.error_code == ErrorCode::kMemberIdRequired);
  CHECK(back.member_id == "client-1234");
  CHECK(back.protocol_name == std::optional<std::string>(""));
}
