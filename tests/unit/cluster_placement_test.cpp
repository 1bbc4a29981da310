#include <doctest/doctest.h>

#include <map>
#include <set>

#include "cluster/placement.h"
#include "cluster/validation.h"

using namespace dmq::cluster;

namespace {

std::vector<BrokerPlacement> brokers(int n, std::vector<std::string> racks = {}) {
  std::vector<BrokerPlacement> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({BrokerId{i + 1}, racks.empty() ? "" : racks[i % racks.size()]});
  }
  return out;
}

// A state with brokers 1..n registered and unfenced.
MetadataState live_brokers(int n) {
  MetadataState s;
  uint64_t index = 1;
  for (int id = 1; id <= n; ++id) {
    uint64_t reg_index = index;
    REQUIRE(
        s.apply({RegisterBrokerRecord{BrokerId{id}, "i", "h", 1, "h", 2, ""}}, LogIndex{index++}));
    REQUIRE(s.apply({UnfenceBrokerRecord{BrokerId{id}, BrokerEpoch{int64_t(reg_index)}}},
                    LogIndex{index++}));
  }
  return s;
}

}  // namespace

TEST_CASE("topic names follow Kafka's rules") {
  CHECK(validate_topic_name("orders"));
  CHECK(validate_topic_name("a.b_c-D9"));
  CHECK(validate_topic_name(std::string(249, 'x')));
  std::vector<std::string> bad_names{"",
                                     ".",
                                     "..",
                                     "has space",
                                     "slash/",
                                     "\xc3\xbc",
                                     std::string(250, 'x'),
                                     std::string("nul\0", 4)};
  for (const std::string& bad : bad_names) {
    Status s = validate_topic_name(bad);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ErrorCode::kInvalidTopicName);
  }
  CHECK(validate_partition_count(1));
  CHECK(validate_partition_count(kMaxPartitions));
  CHECK_FALSE(validate_partition_count(0));
  CHECK_FALSE(validate_partition_count(kMaxPartitions + 1));
}

TEST_CASE("replication factor beyond the live brokers is a clear error") {
  Status s = validate_replication_factor(3, 2);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kNotEnoughBrokers);
  CHECK(s.error().message == "replication factor 3 exceeds the 2 available brokers");
  CHECK(error_http_status(s.error().code) == 503);
  CHECK(validate_replication_factor(0, 2).error().code == ErrorCode::kInvalidReplicationFactor);
}

TEST_CASE("6 partitions, RF 3, 3 brokers: every broker leads 2 and holds 6 replicas") {
  for (uint32_t random : {0u, 1u, 2u, 12345u, 99999u}) {
    CAPTURE(random);
    auto parts = place_replicas(brokers(3), 6, 3, random);
    REQUIRE(parts.size() == 6);
    std::map<int, int> leads, holds;
    for (const auto& p : parts) {
      REQUIRE(p.replicas.size() == 3);
      CHECK(validate_replica_list(p.replicas));
      ++leads[p.replicas.front().value];
      for (BrokerId b : p.replicas) ++holds[b.value];
    }
    for (int b = 1; b <= 3; ++b) {
      CHECK(leads[b] == 2);
      CHECK(holds[b] == 6);
    }
  }
}

TEST_CASE("placement spreads replicas evenly and the random value moves the start") {
  auto parts = place_replicas(brokers(5), 10, 2, 3);
  std::map<int, int> leads, holds;
  for (const auto& p : parts) {
    CHECK(validate_replica_list(p.replicas));
    ++leads[p.replicas.front().value];
    for (BrokerId b : p.replicas) ++holds[b.value];
  }
  for (int b = 1; b <= 5; ++b) {
    CHECK(leads[b] == 2);
    CHECK(holds[b] == 4);
  }
  CHECK(place_replicas(brokers(5), 1, 1, 0)[0].replicas !=
        place_replicas(brokers(5), 1, 1, 1)[0].replicas);
  // Same inputs, same answer: the controller's choice is reproducible.
  CHECK(place_replicas(brokers(5), 10, 2, 3) == parts);
}

TEST_CASE("rack-aware placement puts each replica on its own rack") {
  // 6 brokers on 3 racks, ids 1..6 -> racks a, b, c, a, b, c.
  auto list = brokers(6, {"a", "b", "c"});
  for (uint32_t random : {0u, 7u, 31337u}) {
    auto parts = place_replicas(list, 12, 3, random);
    std::map<int, int> leads;
    for (const auto& p : parts) {
      std::set<std::string> racks;
      for (BrokerId b : p.replicas) racks.insert(list[b.value - 1].rack);
      CHECK(racks.size() == 3);
      ++leads[p.replicas.front().value];
    }
    for (int b = 1; b <= 6; ++b) CHECK(leads[b] == 2);
  }
  // Uneven racks: RF 2 on racks {a: 1,3,4} {b: 2} still never doubles a rack.
  std::vector<BrokerPlacement> uneven{
      {BrokerId{1}, "a"}, {BrokerId{2}, "b"}, {BrokerId{3}, "a"}, {BrokerId{4}, "a"}};
  for (const auto& p : place_replicas(uneven, 8, 2, 5)) {
    std::set<std::string> racks;
    for (BrokerId b : p.replicas) racks.insert(uneven[b.value - 1].rack);
    CHECK(racks.size() == 2);
  }
}

TEST_CASE("plan_create_topic validates against the image") {
  MetadataState s = live_brokers(2);
  Result<CreateTopicRecord> ok = plan_create_topic(s, {"t", 4, 2, {{"a", "b"}}}, "uuid-1", 9);
  REQUIRE(ok.ok());
  CHECK(ok.value().partitions.size() == 4);
  CHECK(ok.value().topic_id == "uuid-1");
  REQUIRE(s.apply({ok.value()}, LogIndex{100}));

  CHECK(plan_create_topic(s, {"t", 1, 1, {}}, "u", 0).error().code == ErrorCode::kTopicExists);
  CHECK(plan_create_topic(s, {"t!", 1, 1, {}}, "u", 0).error().code ==
        ErrorCode::kInvalidTopicName);
  CHECK(plan_create_topic(s, {"u", 0, 1, {}}, "u", 0).error().code ==
        ErrorCode::kInvalidPartitions);
  Result<CreateTopicRecord> rf = plan_create_topic(s, {"u", 1, 3, {}}, "u", 0);
  REQUIRE_FALSE(rf.ok());
  CHECK(rf.error().message == "replication factor 3 exceeds the 2 available brokers");

  Result<CreatePartitionsRecord> more = plan_create_partitions(s, "t", 6, 1);
  REQUIRE(more.ok());
  CHECK(more.value().partitions.size() == 2);
  CHECK(more.value().partitions[0].replicas.size() == 2);
  CHECK(plan_create_partitions(s, "t", 4, 1).error().code == ErrorCode::kInvalidPartitions);
  CHECK(plan_create_partitions(s, "nope", 4, 1).error().code == ErrorCode::kUnknownTopic);
  REQUIRE(s.apply({more.value()}, LogIndex{101}));
  CHECK(s.find_topic("t")->partitions.size() == 6);

  Result<DeleteTopicRecord> del = plan_delete_topic(s, "t");
  REQUIRE(del.ok());
  CHECK(del.value().topic_id == "uuid-1");
  CHECK(plan_delete_topic(s, "nope").error().code == ErrorCode::kUnknownTopic);
}
