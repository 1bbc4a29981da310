// The member side of the "consumer" protocol (kafka/protocol/consumer_assignor.h):
// bytes the coordinator's decoder (and so any Kafka client) reads back, and the
// range and round-robin assignments Kafka's own assignors would make.
#include <doctest/doctest.h>

#include "group/consumer_protocol.h"
#include "kafka/protocol/consumer_assignor.h"

using dmq::kafka::AssignorMember;
using dmq::kafka::PartitionsByTopic;

TEST_CASE("consumer subscription and assignment bytes decode as Kafka's v0 shapes") {
  auto sub = dmq::kafka::encode_consumer_subscription({"a", "bb"});
  auto topics = dmq::group::decode_subscription_topics(sub);
  REQUIRE(topics);
  CHECK(*topics == std::vector<std::string>{"a", "bb"});

  auto bytes = dmq::kafka::encode_consumer_assignment({{"a", {0, 2}}, {"bb", {1}}});
  auto assigned = dmq::group::decode_assignment(bytes);
  REQUIRE(assigned);
  REQUIRE(assigned->size() == 3);
  CHECK((*assigned)[0].topic == "a");
  CHECK((*assigned)[1].partition == 2);
  CHECK((*assigned)[2].topic == "bb");
  CHECK((*assigned)[2].partition == 1);
}

TEST_CASE("the kafka-layer readers give back what was encoded and refuse bad bytes") {
  auto topics = dmq::kafka::decode_consumer_subscription(
      dmq::kafka::encode_consumer_subscription({"a", "bb"}));
  REQUIRE(topics);
  CHECK(*topics == std::vector<std::string>{"a", "bb"});
  const PartitionsByTopic plan{{"a", {0, 2}}, {"bb", {1}}};
  auto bytes = dmq::kafka::encode_consumer_assignment(plan);
  auto assigned = dmq::kafka::decode_consumer_assignment(bytes);
  REQUIRE(assigned);
  CHECK(*assigned == plan);
  // Truncated anywhere inside the partition list, a negative version, or an
  // array count larger than the bytes left: not an assignment.
  CHECK_FALSE(dmq::kafka::decode_consumer_assignment(bytes.substr(0, bytes.size() - 6)));
  CHECK_FALSE(dmq::kafka::decode_consumer_assignment(std::string("\xff\xff", 2)));
  CHECK_FALSE(dmq::kafka::decode_consumer_assignment(std::string("\0\0\x7f\xff\xff\xff", 6)));
  CHECK_FALSE(dmq::kafka::decode_consumer_subscription(std::string("\0", 1)));
}

TEST_CASE("range gives each subscriber a contiguous block, the first ones one more") {
  std::vector<AssignorMember> members = {{"m2", {"t"}}, {"m1", {"t"}}, {"m3", {"t", "u"}}};
  auto out = dmq::kafka::assign_partitions("range", members, {{"t", 7}, {"u", 2}});
  CHECK(out["m1"] == PartitionsByTopic{{"t", {0, 1, 2}}});
  CHECK(out["m2"] == PartitionsByTopic{{"t", {3, 4}}});
  CHECK(out["m3"] == PartitionsByTopic{{"t", {5, 6}}, {"u", {0, 1}}});
}

TEST_CASE("range leaves a member with nothing when there are more members than partitions") {
  std::vector<AssignorMember> members = {{"a", {"t"}}, {"b", {"t"}}, {"c", {"t"}}};
  auto out = dmq::kafka::assign_partitions("range", members, {{"t", 2}});
  CHECK(out.size() == 3);
  CHECK(out["a"] == PartitionsByTopic{{"t", {0}}});
  CHECK(out["b"] == PartitionsByTopic{{"t", {1}}});
  CHECK(out["c"].empty());
}

TEST_CASE("roundrobin deals partitions in turn to the members subscribed to their topic") {
  std::vector<AssignorMember> members = {{"a", {"t", "u"}}, {"b", {"t"}}};
  auto out = dmq::kafka::assign_partitions("roundrobin", members, {{"t", 3}, {"u", 2}});
  CHECK(out["a"] == PartitionsByTopic{{"t", {0, 2}}, {"u", {0, 1}}});
  CHECK(out["b"] == PartitionsByTopic{{"t", {1}}});
}

TEST_CASE("a topic nobody subscribes to, or missing from the counts, is not assigned") {
  std::vector<AssignorMember> members = {{"a", {"t", "gone"}}};
  auto out = dmq::kafka::assign_partitions("range", members, {{"t", 1}, {"other", 4}});
  CHECK(out["a"] == PartitionsByTopic{{"t", {0}}});
}
