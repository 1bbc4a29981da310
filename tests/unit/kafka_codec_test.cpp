// Primitives, headers and the core messages (ApiVersions, Metadata, Produce,
// Fetch): golden bytes as real clients send them, and framing rules.
#include <doctest/doctest.h>

#include <string>

#include "common/crc32c.h"
#include "kafka/protocol/io.h"
#include "kafka/protocol/request.h"
#include "kafka_test_bytes.h"

using namespace dmq::kafka;
using namespace dmq::kafka::test;

namespace {}  // namespace

TEST_CASE("varints use zig-zag for signed values and 7-bit groups") {
  Writer w;
  w.varint(-1);
  w.varint(0);
  w.varint(1);
  w.varint(-64);
  w.varint(INT32_MIN);
  w.uvarint(300);
  w.varlong(INT64_MAX);
  std::string b = w.take_bytes();
  CHECK(hex(b.substr(0, 4)) == "0100027f");
  Reader r(b);
  CHECK(r.varint() == -1);
  CHECK(r.varint() == 0);
  CHECK(r.varint() == 1);
  CHECK(r.varint() == -64);
  CHECK(r.varint() == INT32_MIN);
  CHECK(r.uvarint() == 300);
  CHECK(r.varlong() == INT64_MAX);
  CHECK(r.ok());
  CHECK(r.remaining() == 0);
}

TEST_CASE("reader failures are sticky and never read past the end") {
  std::string b = unhex("0001");
  Reader r(b);
  CHECK(r.i32() == 0);
  CHECK_FALSE(r.ok());
  CHECK(r.error() == CodecError::kTruncated);
  CHECK(r.i8() == 0);
  CHECK(r.take(1).empty());

  std::string long_varint = unhex("ffffffffff01");
  Reader v(long_varint);
  v.uvarint();
  CHECK(v.error() == CodecError::kBadVarint);
}

TEST_CASE("array counts larger than the remaining bytes fail before allocating") {
  // Metadata v1 request claiming 2^31-1 topics in a 4-byte body.
  std::string body = unhex("7fffffff");
  MetadataRequest req;
  CHECK(decode(body, 1, req) == CodecError::kTooManyElements);
  // A compact array claiming a huge count.
  std::string flex = unhex("ffffffff0f");
  CHECK(decode(flex, 9, req) != CodecError::kOk);
}

TEST_CASE("strings: null only where nullable, negative lengths rejected") {
  // ApiVersions v3 with a null (0) compact client_software_name.
  ApiVersionsRequest req;
  CHECK(decode(unhex("000100"), 3, req) == CodecError::kUnexpectedNull);
  // Produce v3 with transactional_id length -2.
  ProduceRequest p;
  CHECK(decode(unhex("fffe"), 3, p) == CodecError::kBadLength);
}

TEST_CASE("crc32c matches the RFC 3720 check value on both paths") {
  std::string digits = "123456789";
  CHECK(dmq::crc32c(digits) == 0xE3069283u);
  CHECK(dmq::crc32c_extend_portable(0, digits.data(), digits.size()) == 0xE3069283u);
  std::string zeros(32, '\0');
  CHECK(dmq::crc32c(zeros) == 0x8A9136AAu);
  // Incremental extension equals one pass; hardware and table paths agree.
  std::string big(1000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  uint32_t split =
      dmq::crc32c_extend(dmq::crc32c_extend(0, big.data(), 333), big.data() + 333, 667);
  CHECK(split == dmq::crc32c(big));
  CHECK(dmq::crc32c_extend_portable(0, big.data(), big.size()) == dmq::crc32c(big));
}

TEST_CASE("ApiVersions v3 request exactly as librdkafka 2.0.2 sends it") {
  // Captured from confluent-kafka-python 1.7.0 / librdkafka 2.0.2, client.id=rdkafka.
  std::string frame = unhex(
      "0000003e0012000300000001000772646b61666b610017636f6e666c75656e742d6b61666b612d70"
      "7974686f6e14312e372e302d72646b61666b612d322e302e3200");
  int32_t size = 0;
  REQUIRE(read_frame_size(frame.data(), kMaxRequestFrameBytes, size) == CodecError::kOk);
  CHECK(size == static_cast<int32_t>(frame.size() - 4));
  Request req;
  REQUIRE(decode_request(std::string_view(frame).substr(4), req) == CodecError::kOk);
  CHECK(req.header.api_key == 18);
  CHECK(req.header.api_version == 3);
  CHECK(req.header.correlation_id == 1);
  CHECK(req.header.client_id == std::optional<std::string_view>("rdkafka"));
  const auto& body = std::get<ApiVersionsRequest>(req.body);
  CHECK(body.client_software_name == "confluent-kafka-python");
  CHECK(body.client_software_version == "1.7.0-rdkafka-2.0.2");
  CHECK(valid_client_software_field(body.client_software_name));
  CHECK(valid_client_software_field(body.client_software_version));
  CHECK_FALSE(valid_client_software_field("bad name"));
  CHECK_FALSE(valid_client_software_field("-x"));
  // Re-encoding the same request gives the same bytes.
  EncodedFrame again = encode_request(3, 1, std::string_view("rdkafka"), body);
  CHECK(hex(again.bytes) == hex(frame));
}

TEST_CASE("ApiVersions v3 response uses header v0 and a flexible body") {
  ApiVersionsResponse resp;
  resp.api_keys = {{18, 0, 3}};
  RequestHeader h{18, 3, 7, std::nullopt};
  EncodedFrame f = encode_response(h, resp);
  // size, correlation id (no header tags), error, compact array(1), entry+tags,
  // throttle, body tags.
  CHECK(hex(f.bytes) ==
        "00000013"
        "00000007"
        "0000"
        "02"
        "001200000003"
        "00"
        "00000000"
        "00");
  ApiVersionsResponse back;
  int32_t corr = 0;
  REQUIRE(decode_response(std::string_view(f.bytes).substr(4), 3, corr, back) == CodecError::kOk);
  CHECK(corr == 7);
  REQUIRE(back.api_keys.size() == 1);
  CHECK(back.api_keys[0].max_version == 3);
}

TEST_CASE("ApiVersions v0 response lists every implemented API") {
  ApiVersionsResponse resp = make_api_versions_response();
  CHECK(resp.api_keys.size() == supported_apis().size());
  std::string b = body_bytes(resp, 0);
  // error(2) + count(4) + 6 bytes per API, no throttle in v0.
  CHECK(b.size() == 2 + 4 + 6 * supported_apis().size());
  // Produce must include v3 and Fetch v4 (librdkafka's MsgVer2 feature probe).
  for (const auto& a : resp.api_keys) {
    if (a.api_key == 0) CHECK((a.min_version <= 3 && a.max_version >= 3));
    if (a.api_key == 1) CHECK((a.min_version <= 4 && a.max_version >= 4));
  }
}

TEST_CASE("ApiVersions with an unsupported version gets a v0 error body naming key 18") {
  // ApiVersions v4 request from a newer client: header parsed, body ignored.
  std::string frame = unhex(
      "0012000400000009000361626300"
      "0361626303312e3000");
  Request req;
  CHECK(decode_request(frame, req) == CodecError::kUnsupportedVersion);
  CHECK(req.header.correlation_id == 9);
  EncodedFrame f = encode_api_versions_unsupported(req.header.correlation_id);
  CHECK(hex(f.bytes) ==
        "00000010"
        "00000009"
        "0023"
        "00000001"
        "0012"
        "0000"
        "0003");
}

TEST_CASE("unknown API keys are reported with the header still readable") {
  std::string frame = unhex("03e700000000002affff");
  Request req;
  CHECK(decode_request(frame, req) == CodecError::kUnknownApiKey);
  CHECK(req.header.correlation_id == 42);
}

TEST_CASE("frame sizes are checked before anything is allocated") {
  int32_t size = 0;
  std::string neg = unhex("ffffffff");
  CHECK(read_frame_size(neg.data(), kMaxRequestFrameBytes, size) == CodecError::kInvalidValue);
  std::string huge = unhex("7fffffff");
  CHECK(read_frame_size(huge.data(), kMaxRequestFrameBytes, size) == CodecError::kInvalidValue);
}

TEST_CASE("Metadata requests as kafka-python 2.0.2 encodes them") {
  MetadataRequest req;
  // v0 probe: empty array means all topics.
  REQUIRE(decode(unhex("00000000"), 0, req) == CodecError::kOk);
  REQUIRE(req.topics.has_value());
  CHECK(req.topics->empty());
  // v1 null = all topics.
  REQUIRE(decode(unhex("ffffffff"), 1, req) == CodecError::kOk);
  CHECK_FALSE(req.topics.has_value());
  const std::string one_topic = unhex("0000000100027431");  // views point into it
  REQUIRE(decode(one_topic, 1, req) == CodecError::kOk);
  REQUIRE(req.topics->size() == 1);
  CHECK((*req.topics)[0].name == std::optional<std::string_view>("t1"));
  CHECK(req.allow_auto_topic_creation);
  // Null topics at v0 are written as the empty array, which means the same.
  MetadataRequest all;
  CHECK(hex(body_bytes(all, 0)) == "00000000");
}

TEST_CASE("Metadata v1 response matches kafka-python's encoding") {
  MetadataResponse resp;
  resp.brokers.push_back({1, "localhost", 9092, std::nullopt});
  resp.controller_id = 1;
  MetadataResponse::Topic t;
  t.name = "t1";
  MetadataResponse::Partition p;
  p.partition_index = 0;
  p.leader_id = 1;
  p.replica_nodes = {1};
  p.isr_nodes = {1};
  t.partitions.push_back(p);
  resp.topics.push_back(t);
  CHECK(hex(body_bytes(resp, 1)) ==
        "000000010000000100096c6f63616c686f737400002384ffff000000010000000100000002743100000000"
        "010000000000000000000100000001000000010000000100000001");
}

TEST_CASE("Produce v7 request: records stay a view into the frame") {
  std::string body =
      unhex("ffffffff0000753000000001000274310000000100000000000000075245434f524453");
  ProduceRequest req;
  REQUIRE(decode(body, 7, req) == CodecError::kOk);
  CHECK_FALSE(req.transactional_id.has_value());
  CHECK(req.acks == -1);
  CHECK(req.timeout_ms == 30000);
  REQUIRE(req.topics.size() == 1);
  CHECK(req.topics[0].name == "t1");
  const Records& rec = req.topics[0].partitions[0].records;
  CHECK(rec.bytes == "RECORDS");
  // No copy: the view points inside the decoded buffer.
  CHECK(rec.bytes.data() >= body.data());
  CHECK(rec.bytes.data() + rec.bytes.size() == body.data() + body.size());
  char* writable = mutable_bytes(body, rec.bytes);
  writable[0] = 'X';
  CHECK(rec.bytes == "XECORDS");
}

TEST_CASE("Produce v7 response matches kafka-python's encoding") {
  ProduceResponse resp;
  ProduceResponse::Topic t;
  t.name = "t1";
  ProduceResponse::Partition p;
  p.base_offset = 42;
  p.log_start_offset = 0;
  t.partitions.push_back(p);
  resp.topics.push_back(t);
  CHECK(hex(body_bytes(resp, 7)) ==
        "000000010002743100000001000000000000000000000000002affffffffffffffff00000000000000000000"
        "0000");
}

TEST_CASE("Fetch v4 request from kafka-python") {
  std::string body = unhex(
      "ffffffff000001f400000001032000000000000001000274310000000100000000000000000000000500100000");
  FetchRequest req;
  REQUIRE(decode(body, 4, req) == CodecError::kOk);
  CHECK(req.replica_id == -1);
  CHECK(req.max_wait_ms == 500);
  CHECK(req.min_bytes == 1);
  CHECK(req.max_bytes == 52428800);
  REQUIRE(req.topics.size() == 1);
  CHECK(req.topics[0].topic == "t1");
  CHECK(req.topics[0].partitions[0].fetch_offset == 5);
  CHECK(req.topics[0].partitions[0].partition_max_bytes == 1048576);
  CHECK(hex(body_bytes(req, 4)) == hex(body));
}

TEST_CASE("Fetch v4 response matches kafka-python's encoding") {
  FetchResponse resp;
  FetchResponse::Topic t;
  t.topic = "t1";
  FetchResponse::Partition p;
  p.high_watermark = 10;
  p.last_stable_offset = 10;
  p.aborted_transactions.emplace();
  p.records = Records::view("ABC");
  t.partitions.push_back(p);
  resp.responses.push_back(t);
  CHECK(hex(body_bytes(resp, 4)) ==
        "00000000000000010002743100000001000000000000000000000000000a000000000000000a0000000000000"
        "003414243");
}

TEST_CASE("Fetch response records can be spliced in by the sender") {
  FetchResponse resp;
  FetchResponse::Topic t;
  t.topic = "t1";
  FetchResponse::Partition p0;
  p0.records = Records::external(/*id=*/11, /*length=*/1000);
  FetchResponse::Partition p1;
  p1.partition_index = 1;
  p1.records = Records::external(/*id=*/12, /*length=*/24);
  t.partitions = {p0, p1};
  resp.responses.push_back(t);
  RequestHeader h{1, 11, 5, std::nullopt};
  EncodedFrame f = encode_response(h, resp);
  REQUIRE(f.splices.size() == 2);
  CHECK(f.splices[0].id == 11);
  CHECK(f.splices[1].id == 12);
  CHECK(f.total_size() == f.bytes.size() + 1024);
  // The size prefix counts the spliced bytes.
  Reader r(f.bytes);
  CHECK(r.i32() == static_cast<int32_t>(f.total_size() - 4));
  // Each hole follows its int32 length prefix.
  Reader len0(std::string_view(f.bytes).substr(f.splices[0].offset - 4, 4));
  CHECK(len0.i32() == 1000);
  // Assembling the frame with real bytes decodes to the same structure.
  std::string assembled =
      f.bytes.substr(0, f.splices[0].offset) + std::string(1000, 'a') +
      f.bytes.substr(f.splices[0].offset, f.splices[1].offset - f.splices[0].offset) +
      std::string(24, 'b') + f.bytes.substr(f.splices[1].offset);
  FetchResponse back;
  int32_t corr = 0;
  REQUIRE(decode_response(std::string_view(assembled).substr(4), 11, corr, back) ==
          CodecError::kOk);
  CHECK(corr == 5);
  CHECK(back.responses[0].partitions[0].records.bytes == std::string(1000, 'a'));
  CHECK(back.responses[0].partitions[1].records.bytes == std::string(24, 'b'));
}

TEST_CASE("Fetch v12 tagged fields: diverging epoch round-trips, unknown tags skipped") {
  FetchResponse resp;
  FetchResponse::Topic t;
  t.topic = "t1";
  FetchResponse::Partition p;
  p.diverging_epoch = {3, 100};
  p.records = Records::view("");
  t.partitions.push_back(p);
  resp.responses.push_back(t);
  std::string b = body_bytes(resp, 12);
  FetchResponse back;
  REQUIRE(decode(b, 12, back) == CodecError::kOk);
  CHECK(back.responses[0].partitions[0].diverging_epoch.epoch == 3);
  CHECK(back.responses[0].partitions[0].diverging_epoch.end_offset == 100);
  CHECK(back.responses[0].partitions[0].current_leader.is_default());

  // A Fetch v12 request with an unknown tag 7 next to cluster_id (tag 0).
  FetchRequest req;
  req.cluster_id = "c1";
  std::string rb = body_bytes(req, 12);
  const std::string tail = unhex(
      "0100030363"
      "31");  // 1 tag: 0, size 3, "c1"
  REQUIRE(rb.size() > tail.size());
  REQUIRE(hex(rb.substr(rb.size() - tail.size())) == hex(tail));
  std::string with_unknown = rb.substr(0, rb.size() - tail.size()) + unhex(
                                                                         "02000303633107"
                                                                         "02aabb");
  FetchRequest back_req;
  REQUIRE(decode(with_unknown, 12, back_req) == CodecError::kOk);
  CHECK(back_req.cluster_id == std::optional<std::string_view>("c1"));
  // A tag whose size runs past the end is an error, not a crash.
  std::string bad = rb.substr(0, rb.size() - tail.size()) + unhex(
                                                                "0107"
                                                                "05aa");
  CHECK(decode(bad, 12, back_req) == CodecError::kTruncated);
}

TEST_CASE("error responses cover every partition of the request") {
  ProduceRequest req;
  req.topics.push_back({"a", {{0, Records::view("x")}, {1, Records::view("y")}}});
  ProduceResponse resp = make_error_response(req, 7, ErrorCode::kNotLeaderOrFollower);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].partitions.size() == 2);
  CHECK(resp.topics[0].partitions[1].index == 1);
  CHECK(resp.topics[0].partitions[1].error_code == ErrorCode::kNotLeaderOrFollower);
}
