// DescribeAcls / CreateAcls / DeleteAcls beyond the generic round trips
// (kafka_messages_test.cpp): v0 has no pattern type and means LITERAL, and
// the v1 request decodes from the bytes kafka-python 2.0.2 sends.
#include <doctest/doctest.h>

#include "kafka/protocol/request.h"

using namespace dmq::kafka;

namespace {

std::string be16(int16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}
std::string str(std::string_view s) {
  return be16(static_cast<int16_t>(s.size())) + std::string(s);
}

}  // namespace

TEST_CASE("ACL APIs v0 carry no pattern type: it decodes as LITERAL") {
  CreateAclsRequest req;
  req.creations.push_back({2, "orders", 4, "User:alice", "*", 3, 3});
  EncodedFrame frame = encode_request(0, 9, "t", req);
  Request decoded;
  REQUIRE(decode_request(std::string_view(frame.bytes).substr(4), decoded) == CodecError::kOk);
  const auto& got = std::get<CreateAclsRequest>(decoded.body);
  REQUIRE(got.creations.size() == 1);
  CHECK(got.creations[0].pattern_type == kAclPatternLiteral);
  CHECK(got.creations[0].principal == "User:alice");
  // v1 keeps it.
  frame = encode_request(1, 9, "t", req);
  REQUIRE(decode_request(std::string_view(frame.bytes).substr(4), decoded) == CodecError::kOk);
  CHECK(std::get<CreateAclsRequest>(decoded.body).creations[0].pattern_type == 4);
}

TEST_CASE("DescribeAcls v1 as kafka-python 2.0.2 encodes it") {
  // Header: api 29, version 1, correlation 5, client id "kp"; then the filter:
  // TOPIC, name null, pattern ANY, principal "User:bob", host null, op ANY, perm ANY.
  std::string bytes = be16(29) + be16(1) + std::string("\0\0\0\5", 4) + str("kp");
  bytes +=
      std::string("\x02\xff\xff\x01", 4) + str("User:bob") + std::string("\xff\xff\x01\x01", 4);
  Request decoded;
  REQUIRE(decode_request(bytes, decoded) == CodecError::kOk);
  const auto& f = std::get<DescribeAclsRequest>(decoded.body).filter;
  CHECK(f.resource_type == 2);
  CHECK_FALSE(f.resource_name.has_value());
  CHECK(f.pattern_type == 1);
  CHECK(f.principal == std::optional<std::string_view>("User:bob"));
  CHECK_FALSE(f.host.has_value());
  CHECK(f.operation == 1);
  CHECK(f.permission_type == 1);
  // A truncated filter is an error, not a crash.
  CHECK(decode_request(std::string_view(bytes).substr(0, bytes.size() - 1), decoded) !=
        CodecError::kOk);
}

TEST_CASE("ACL error responses answer every creation and filter") {
  CreateAclsRequest create;
  create.creations.resize(3);
  auto c = make_error_response(create, 1, ErrorCode::kClusterAuthorizationFailed);
  REQUIRE(c.results.size() == 3);
  CHECK(c.results[2].error_code == ErrorCode::kClusterAuthorizationFailed);
  DeleteAclsRequest del;
  del.filters.resize(2);
  auto d = make_error_response(del, 2, ErrorCode::kSecurityDisabled);
  REQUIRE(d.filter_results.size() == 2);
  CHECK(d.filter_results[1].error_code == ErrorCode::kSecurityDisabled);
}
