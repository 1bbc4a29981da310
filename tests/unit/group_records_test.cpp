// __consumer_offsets keys and values in Kafka's schemas, and the group ->
// partition mapping (abs(String.hashCode) % N).
#include <doctest/doctest.h>

#include "group/records.h"

using namespace dmq::group;

TEST_CASE("java_string_hash matches String.hashCode, including surrogate pairs") {
  CHECK(java_string_hash("") == 0);
  CHECK(java_string_hash("hello") == 99162322);
  CHECK(java_string_hash("Aa") == java_string_hash("BB"));
  CHECK(java_string_hash("\xF0\x9F\x98\x80") == 0xD83D * 31 + 0xDE00);  // U+1F600
  CHECK(java_string_hash("\xE2\x82\xAC") == 0x20AC);                    // U+20AC
  CHECK(java_string_hash("polygenelubricants") == INT32_MIN);
}

TEST_CASE("partition_for takes Kafka's abs (abs(MIN_VALUE) = 0)") {
  CHECK(partition_for("polygenelubricants", 50) == 0);
  CHECK(partition_for("hello", 50) == 99162322 % 50);
  // "Ab" hashes to 2113; a negative hash: "zzzzzzzz" overflows.
  int32_t h = java_string_hash("zzzzzzzz");
  REQUIRE(h < 0);
  CHECK(partition_for("zzzzzzzz", 7) == (-h) % 7);
}

TEST_CASE("offset commit key v1 has Kafka's layout") {
  std::string key = encode_offset_key("g", {"t", 3});
  CHECK(key == std::string("\x00\x01\x00\x01g\x00\x01t\x00\x00\x00\x03", 12));
  std::string gkey = encode_group_key("g");
  CHECK(gkey == std::string("\x00\x02\x00\x01g", 5));
}

TEST_CASE("offset values round-trip (v3, and v1 with an expire timestamp)") {
  CommittedOffset o{42, 7, "meta", 1700000000000, std::nullopt};
  auto r = decode_offsets_record(encode_offset_key("g", {"t", 1}), encode_offset_value(o));
  REQUIRE(r);
  CHECK(r->kind == OffsetsRecord::Kind::kOffset);
  CHECK(r->group_id == "g");
  CHECK(r->tp == TopicPartition{"t", 1});
  REQUIRE(r->offset);
  CHECK(*r->offset == o);

  CommittedOffset e{1, -1, "", 5, int64_t{99}};
  auto r1 = decode_offsets_record(encode_offset_key("g", {"t", 1}), encode_offset_value(e));
  REQUIRE(r1);
  CHECK(*r1->offset == e);

  auto tomb = decode_offsets_record(encode_offset_key("g", {"t", 1}), std::nullopt);
  REQUIRE(tomb);
  CHECK_FALSE(tomb->offset);
}

TEST_CASE("group metadata round-trips") {
  GroupSnapshot s;
  s.protocol_type = "consumer";
  s.generation_id = 4;
  s.protocol_name = "range";
  s.leader_id = "m1";
  s.state_timestamp_ms = 123;
  s.members.push_back(MemberView{"m1", std::string("i1"), "c", "/h", 300, 6000, "sub", "asg"});
  s.members.push_back(MemberView{"m2", std::nullopt, "c2", "/h2", 300, 6000, "", ""});
  auto r = decode_offsets_record(encode_group_key("grp"), encode_group_value(s));
  REQUIRE(r);
  CHECK(r->kind == OffsetsRecord::Kind::kGroup);
  CHECK(r->group_id == "grp");
  REQUIRE(r->group);
  CHECK(r->group->protocol_name == "range");
  CHECK(r->group->leader_id == "m1");
  CHECK(r->group->generation_id == 4);
  REQUIRE(r->group->members.size() == 2);
  CHECK(r->group->members[0].group_instance_id == "i1");
  CHECK(r->group->members[0].assignment == "asg");
  CHECK_FALSE(r->group->members[1].group_instance_id);
}

TEST_CASE("malformed records are rejected, never trusted") {
  CHECK_FALSE(decode_offsets_record(std::nullopt, std::string("x")));
  CHECK_FALSE(decode_offsets_record(std::string("\x00\x09", 2), std::nullopt));  // unknown version
  std::string key = encode_offset_key("g", {"t", 1});
  CHECK_FALSE(decode_offsets_record(key.substr(0, key.size() - 1), std::nullopt));
  std::string value = encode_offset_value(CommittedOffset{1, 1, "m", 1, std::nullopt});
  CHECK_FALSE(decode_offsets_record(key, value.substr(0, value.size() - 2)));
  // A member count far beyond the bytes.
  std::string bogus(
      "\x00\x03\x00\x01x\x00\x00\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff"
      "\xff\xff\xff\xff\x7f\xff\xff\xff",
      25);
  CHECK_FALSE(decode_offsets_record(encode_group_key("g"), bogus));
}
