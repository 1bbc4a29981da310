// The client's routing rules: Kafka-compatible key partitioning, sticky
// unkeyed partitioning, leader lookup from Metadata, and which errors mean
// "refresh the metadata and retry".

#include <doctest/doctest.h>

#include "client/cluster_map.h"
#include "client/partitioner.h"

using namespace dmq::client;
using dmq::kafka::ErrorCode;
using dmq::kafka::MetadataResponse;
using dmq::kafka::murmur2;
using dmq::kafka::partition_for_key;

TEST_CASE("murmur2 matches Kafka's Utils.murmur2 test vectors") {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2
  CHECK(murmur2("21") == -973932308);
  CHECK(murmur2("foobar") == -790332482);
  CHECK(murmur2("a-little-bit-long-string") == -985981536);
  CHECK(murmur2("a-little-bit-longer-string") == -1486304829);
  CHECK(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  CHECK(murmur2("abc") == 479470107);
}

TEST_CASE("a key always maps to the same partition, masking the sign like toPositive") {
  // toPositive(-973932308) = -973932308 & 0x7fffffff = 1173551340.
  CHECK(partition_for_key("21", 7) == static_cast<int32_t>(1173551340u % 7));
  for (int n : {1, 3, 12}) {
    int32_t p = partition_for_key("user-42", n);
    CHECK(p >= 0);
    CHECK(p < n);
    CHECK(partition_for_key("user-42", n) == p);
  }
}

TEST_CASE("unkeyed records stick to a partition until the batch moves on") {
  Partitioner partitioner(3, std::nullopt, 1);
  CHECK(partitioner.choose(std::nullopt) == 1);
  CHECK(partitioner.choose(std::nullopt) == 1);
  partitioner.next_batch();
  CHECK(partitioner.choose(std::nullopt) == 2);
  partitioner.next_batch();
  CHECK(partitioner.choose(std::nullopt) == 0);
  CHECK(partitioner.choose(std::string_view("21")) == partition_for_key("21", 3));
}

TEST_CASE("--partition overrides keys and stickiness") {
  Partitioner partitioner(4, 3);
  CHECK(partitioner.choose(std::nullopt) == 3);
  CHECK(partitioner.choose(std::string_view("any key")) == 3);
}

namespace {

MetadataResponse metadata() {
  MetadataResponse r;
  r.brokers = {{1, "127.0.0.1", 9092, std::nullopt}, {2, "127.0.0.1", 9093, std::string("r1")}};
  r.controller_id = 1;
  r.cluster_id = "c1";
  MetadataResponse::Topic t;
  t.name = "orders";
  MetadataResponse::Partition p;
  p.partition_index = 1;
  p.leader_id = 2;
  p.replica_nodes = {2, 1};
  p.isr_nodes = {2};
  t.partitions.push_back(p);
  p.partition_index = 0;
  p.leader_id = 1;
  p.isr_nodes = {2, 1};
  t.partitions.push_back(p);
  p.partition_index = 2;
  p.leader_id = -1;  // being elected
  t.partitions.push_back(p);
  p.partition_index = 3;
  p.leader_id = 7;  // a leader the broker list does not know yet
  t.partitions.push_back(p);
  r.topics.push_back(t);
  return r;
}

}  // namespace

TEST_CASE("the cluster map routes partitions to their leaders") {
  ClusterMap map;
  map.update(metadata(), true);
  CHECK(map.controller_id() == 1);
  CHECK(map.cluster_id() == "c1");
  REQUIRE(map.topic("orders") != nullptr);
  CHECK(map.topic("orders")->partitions.front().index == 0);  // sorted
  CHECK(map.leader_of("orders", 0) == 1);
  CHECK(map.leader_of("orders", 1) == 2);
  CHECK_FALSE(map.leader_of("orders", 2).has_value());
  CHECK_FALSE(map.leader_of("orders", 3).has_value());
  CHECK_FALSE(map.leader_of("orders", 9).has_value());
  CHECK_FALSE(map.leader_of("missing", 0).has_value());
  CHECK(map.broker_address(2)->port == 9093);
  CHECK(map.topic("orders")->partitions[1].under_replicated());
  CHECK_FALSE(map.topic("orders")->partitions[0].under_replicated());

  std::vector<int32_t> leaderless;
  auto routes = map.by_leader("orders", {0, 1, 2, 3}, &leaderless);
  CHECK(routes.size() == 2);
  CHECK(routes[1] == std::vector<int32_t>{0});
  CHECK(routes[2] == std::vector<int32_t>{1});
  CHECK(leaderless == std::vector<int32_t>{2, 3});
}

TEST_CASE("a full metadata refresh forgets deleted topics; a partial one keeps others") {
  ClusterMap map;
  map.update(metadata(), true);
  MetadataResponse other;
  other.brokers = metadata().brokers;
  MetadataResponse::Topic t;
  t.name = "other";
  other.topics.push_back(t);
  map.update(other, false);
  CHECK(map.topic("orders") != nullptr);
  map.update(other, true);
  CHECK(map.topic("orders") == nullptr);
  CHECK(map.topic("other") != nullptr);
}

TEST_CASE("leadership errors ask for a metadata refresh; others are final") {
  CHECK(is_stale_metadata_error(ErrorCode::kNotLeaderOrFollower));
  CHECK(is_stale_metadata_error(ErrorCode::kLeaderNotAvailable));
  CHECK(is_stale_metadata_error(ErrorCode::kFencedLeaderEpoch));
  CHECK(is_retriable_error(ErrorCode::kNotCoordinator));
  CHECK(is_retriable_error(ErrorCode::kCoordinatorLoadInProgress));
  CHECK(is_retriable_error(ErrorCode::kRequestTimedOut));
  CHECK_FALSE(is_retriable_error(ErrorCode::kTopicAuthorizationFailed));
  CHECK_FALSE(is_retriable_error(ErrorCode::kMessageTooLarge));
  CHECK_FALSE(is_retriable_error(ErrorCode::kOffsetOutOfRange));
  CHECK(kafka_error_name(ErrorCode::kUnknownTopicOrPartition) == "UNKNOWN_TOPIC_OR_PARTITION");
  CHECK(kafka_error_name(ErrorCode::kNotLeaderOrFollower) == "NOT_LEADER_OR_FOLLOWER");
}
