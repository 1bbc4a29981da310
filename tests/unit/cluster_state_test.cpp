#include <doctest/doctest.h>

#include <random>

#include "cluster/byte_codec.h"
#include "cluster/image_codec.h"
#include "cluster/metadata_state.h"

using namespace dmq::cluster;

namespace {

RegisterBrokerRecord reg(int id, std::string rack = "") {
  return {BrokerId{id}, "inc-" + std::to_string(id), "127.0.0.1",    uint16_t(9090 + id),
          "127.0.0.1",  uint16_t(8080 + id),         std::move(rack)};
}

// Applies with consecutive indexes starting after the current one.
struct Applier {
  MetadataState state;
  uint64_t next = 1;
  Status operator()(RecordBatch batch) { return state.apply(batch, LogIndex{next++}); }
  Status one(Record r) { return (*this)(RecordBatch{std::move(r)}); }
  // Registers and unfences brokers 1..n.
  void brokers(int n) {
    for (int id = 1; id <= n; ++id) {
      uint64_t index = next;
      REQUIRE(one(reg(id)));
      REQUIRE(one(UnfenceBrokerRecord{BrokerId{id}, BrokerEpoch{int64_t(index)}}));
    }
  }
  BrokerEpoch epoch(int id) { return state.find_broker(BrokerId{id})->epoch; }
};

CreateTopicRecord topic(std::string name, std::vector<std::vector<int>> parts) {
  CreateTopicRecord r{std::move(name), "id-" + std::to_string(parts.size()), {}, {}};
  r.topic_id += "-" + r.name;
  for (auto& p : parts) {
    PartitionAssignment a;
    for (int b : p) a.replicas.push_back(BrokerId{b});
    r.partitions.push_back(a);
  }
  return r;
}

std::vector<BrokerId> ids(std::initializer_list<int> v) {
  std::vector<BrokerId> out;
  for (int i : v) out.push_back(BrokerId{i});
  return out;
}

}  // namespace

TEST_CASE("registration: epoch is the raft index, starts fenced, unfences with its epoch") {
  Applier a;
  a.next = 17;
  REQUIRE(a.one(reg(1)));
  const BrokerRegistration* b = a.state.find_broker(BrokerId{1});
  REQUIRE(b);
  CHECK(b->epoch == BrokerEpoch{17});
  CHECK(b->fenced);
  CHECK(a.state.applied_index() == LogIndex{17});
  Status stale = a.one(UnfenceBrokerRecord{BrokerId{1}, BrokerEpoch{3}});
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == ErrorCode::kStaleBrokerEpoch);
  CHECK(a.state.find_broker(BrokerId{1})->fenced);
  REQUIRE(a.one(UnfenceBrokerRecord{BrokerId{1}, BrokerEpoch{17}}));
  CHECK_FALSE(a.state.find_broker(BrokerId{1})->fenced);
  // Re-registering over an unfenced registration is refused: it must be fenced first.
  Status dup = a.one(reg(1));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == ErrorCode::kDuplicateBrokerId);
  CHECK(a.state.applied_index() == LogIndex{20});
}

TEST_CASE("create topic: isr is the live replicas and the leader the first of them") {
  Applier a;
  a.brokers(2);
  REQUIRE(a.one(reg(3)));  // registered but still fenced
  REQUIRE(a.one(topic("t", {{1, 2}, {3, 1}, {3}})));
  const TopicState* t = a.state.find_topic("t");
  REQUIRE(t);
  REQUIRE(t->partitions.size() == 3);
  CHECK(t->partitions[0].leader == BrokerId{1});
  CHECK(t->partitions[0].isr == ids({1, 2}));
  CHECK(t->partitions[1].leader == BrokerId{1});
  CHECK(t->partitions[1].isr == ids({1}));
  CHECK(t->partitions[2].leader == kNoLeader);
  CHECK(a.state.find_topic_by_id(t->topic_id) == t);
}

TEST_CASE("a second create of the same topic is a no-op with the reason") {
  Applier a;
  a.brokers(1);
  REQUIRE(a.one(topic("t", {{1}})));
  MetadataImage before = a.state.image();
  CreateTopicRecord again = topic("t", {{1}, {1}});
  again.topic_id = "other";
  Status s = a.one(again);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kTopicExists);
  CHECK(a.state.image() == before);
  CHECK_FALSE(a.one(topic("bad/name", {{1}})));
  CHECK_FALSE(a.one(topic("empty", {})));
  CHECK_FALSE(a.one(topic("dupe", {{1, 1}})));
  CHECK(a.state.image() == before);
}

TEST_CASE("partition change: epoch check, leader epoch bumps only on leader change") {
  Applier a;
  a.brokers(3);
  REQUIRE(a.one(topic("t", {{1, 2, 3}})));
  auto p = [&] { return *a.state.find_partition("t", PartitionId{0}); };
  // Shrink the ISR: partition epoch bumps, leader epoch does not.
  REQUIRE(a.one(
      PartitionChangeRecord{"t", PartitionId{0}, PartitionEpoch{0}, std::nullopt, ids({1, 2})}));
  CHECK(p().partition_epoch == PartitionEpoch{1});
  CHECK(p().leader_epoch == LeaderEpoch{0});
  // A change computed from the old epoch is dropped.
  Status stale = a.one(
      PartitionChangeRecord{"t", PartitionId{0}, PartitionEpoch{0}, BrokerId{2}, std::nullopt});
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == ErrorCode::kStalePartitionEpoch);
  CHECK(p().leader == BrokerId{1});
  // Leader outside the ISR is refused.
  CHECK_FALSE(a.one(
      PartitionChangeRecord{"t", PartitionId{0}, PartitionEpoch{1}, BrokerId{3}, std::nullopt}));
  // ISR member that is not a replica is refused.
  CHECK_FALSE(a.one(
      PartitionChangeRecord{"t", PartitionId{0}, PartitionEpoch{1}, std::nullopt, ids({1, 4})}));
  REQUIRE(
      a.one(PartitionChangeRecord{"t", PartitionId{0}, PartitionEpoch{1}, BrokerId{2}, ids({2})}));
  CHECK(p().leader == BrokerId{2});
  CHECK(p().leader_epoch == LeaderEpoch{1});
  CHECK(p().partition_epoch == PartitionEpoch{2});
}

TEST_CASE("a batch is all-or-nothing and must not leave a fenced leader") {
  Applier a;
  a.brokers(2);
  REQUIRE(a.one(topic("t", {{1, 2}})));
  MetadataImage before = a.state.image();
  // Fencing broker 1 alone would leave it leading t-0: refused as a whole.
  Status alone = a.one(FenceBrokerRecord{BrokerId{1}, a.epoch(1)});
  REQUIRE_FALSE(alone);
  CHECK(a.state.image() == before);
  // A valid fence followed by a stale partition change: nothing applies.
  Status mixed =
      a({FenceBrokerRecord{BrokerId{1}, a.epoch(1)},
         PartitionChangeRecord{"t", PartitionId{0}, PartitionEpoch{9}, BrokerId{2}, ids({2})}});
  REQUIRE_FALSE(mixed);
  CHECK(a.state.image() == before);
  CHECK_FALSE(a.state.find_broker(BrokerId{1})->fenced);
  // Fence plus the leader move: one committed step.
  REQUIRE(
      a({FenceBrokerRecord{BrokerId{1}, a.epoch(1)},
         PartitionChangeRecord{"t", PartitionId{0}, PartitionEpoch{0}, BrokerId{2}, ids({2})}}));
  CHECK(a.state.find_broker(BrokerId{1})->fenced);
  CHECK(a.state.find_partition("t", PartitionId{0})->leader == BrokerId{2});
}

TEST_CASE("undecodable and empty entries are no-ops that still move the applied index") {
  MetadataState s;
  CHECK(s.apply_bytes("", LogIndex{1}));
  Status bad = s.apply_bytes("\x01garbage", LogIndex{2});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kMalformedRecord);
  CHECK(s.applied_index() == LogIndex{2});
  CHECK(s.image() == MetadataImage{});
}

TEST_CASE("producer id blocks are handed out once each") {
  Applier a;
  a.brokers(2);
  REQUIRE(a.one(AllocateProducerIdsRecord{BrokerId{1}, a.epoch(1), ProducerId{0}}));
  CHECK(a.state.image().next_producer_id == ProducerId{1000});
  // A racing allocation built on the same next block is dropped.
  CHECK_FALSE(a.one(AllocateProducerIdsRecord{BrokerId{2}, a.epoch(2), ProducerId{0}}));
  CHECK(a.state.image().next_producer_id == ProducerId{1000});
  CHECK_FALSE(a.one(AllocateProducerIdsRecord{BrokerId{2}, BrokerEpoch{999}, ProducerId{1000}}));
  REQUIRE(a.one(AllocateProducerIdsRecord{BrokerId{2}, a.epoch(2), ProducerId{1000}}));
  CHECK(a.state.image().next_producer_id == ProducerId{2000});
}

TEST_CASE("config changes, create partitions, delete topic, unregister") {
  Applier a;
  a.brokers(2);
  CreateTopicRecord t = topic("t", {{1}});
  REQUIRE(a.one(t));
  REQUIRE(a.one(ConfigChangeRecord{ConfigResource::kTopic, "t", {{"retention.ms", "5"}}}));
  CHECK(a.state.find_topic("t")->configs.at("retention.ms") == "5");
  REQUIRE(a.one(ConfigChangeRecord{ConfigResource::kTopic, "t", {{"retention.ms", std::nullopt}}}));
  CHECK(a.state.find_topic("t")->configs.empty());
  REQUIRE(a.one(ConfigChangeRecord{ConfigResource::kBroker, "2", {{"x", "y"}}}));
  CHECK(a.state.image().broker_configs.at("2").at("x") == "y");
  CHECK_FALSE(a.one(ConfigChangeRecord{ConfigResource::kBroker, "two", {{"x", "y"}}}));
  CHECK_FALSE(a.one(ConfigChangeRecord{ConfigResource::kTopic, "nope", {{"x", "y"}}}));

  REQUIRE(a.one(CreatePartitionsRecord{"t", t.topic_id, {{ids({2, 1})}}}));
  REQUIRE(a.state.find_topic("t")->partitions.size() == 2);
  CHECK(a.state.find_partition("t", PartitionId{1})->leader == BrokerId{2});

  CHECK_FALSE(a.one(DeleteTopicRecord{"t", "wrong-id"}));
  REQUIRE(a.one(DeleteTopicRecord{"t", t.topic_id}));
  CHECK(a.state.find_topic("t") == nullptr);
  CHECK(a.state.find_topic_by_id(t.topic_id) == nullptr);

  CHECK_FALSE(a.one(UnregisterBrokerRecord{BrokerId{2}, a.epoch(2)}));  // still unfenced
  REQUIRE(a.one(FenceBrokerRecord{BrokerId{2}, a.epoch(2)}));
  REQUIRE(a.one(UnregisterBrokerRecord{BrokerId{2}, a.epoch(2)}));
  CHECK(a.state.find_broker(BrokerId{2}) == nullptr);
}

TEST_CASE("two states applying the same entries have identical snapshots") {
  std::vector<std::string> entries;
  entries.push_back(encode_batch({reg(1, "a")}));
  entries.push_back(encode_batch({reg(2, "b")}));
  entries.push_back(encode_batch({UnfenceBrokerRecord{BrokerId{1}, BrokerEpoch{1}}}));
  entries.push_back(encode_batch({UnfenceBrokerRecord{BrokerId{2}, BrokerEpoch{2}}}));
  entries.push_back(encode_batch({topic("x", {{1, 2}, {2, 1}})}));
  entries.push_back(encode_batch({topic("x", {{1}})}));  // rejected identically
  entries.push_back("not a batch");
  entries.push_back(encode_batch({ConfigChangeRecord{ConfigResource::kTopic, "x", {{"k", "v"}}}}));
  MetadataState s1, s2;
  for (size_t i = 0; i < entries.size(); ++i) {
    LogIndex index{i + 1};
    CHECK(bool(s1.apply_bytes(entries[i], index)) == bool(s2.apply_bytes(entries[i], index)));
  }
  CHECK(s1.snapshot() == s2.snapshot());
  CHECK(s1.image().topics.size() == 1);

  Result<MetadataState> copy = MetadataState::from_snapshot(s1.snapshot());
  REQUIRE(copy.ok());
  CHECK(copy.value().image() == s1.image());
  CHECK(copy.value().applied_index() == LogIndex{entries.size()});
  CHECK(copy.value().find_topic_by_id(s1.find_topic("x")->topic_id) != nullptr);
  std::string snap = s1.snapshot();
  for (size_t n = 0; n < snap.size(); ++n) {
    CHECK_FALSE(MetadataState::from_snapshot(std::string_view(snap).substr(0, n)).ok());
  }
}

TEST_CASE("corrupted snapshots are refused or decode to a valid image, never crash") {
  Applier a;
  a.brokers(3);
  REQUIRE(a.one(topic("t", {{1, 2, 3}, {2, 3, 1}})));
  std::string good = a.state.snapshot();
  std::mt19937 rng(77);
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = good;
    bytes[rng() % bytes.size()] = static_cast<char>(rng());
    Result<MetadataState> r = MetadataState::from_snapshot(bytes);
    if (r.ok()) CHECK(r.value().check_invariants());
  }
  // A snapshot whose leader is not in its ISR decodes but is refused.
  MetadataImage image = a.state.image();
  image.topics.at("t").partitions[0].isr = ids({2});
  Result<MetadataState> bad =
      MetadataState::from_snapshot(MetadataState(image, LogIndex{9}).snapshot());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kCorruptStore);
}

TEST_CASE("a broker's listeners reach the image and survive a snapshot") {
  RegisterBrokerRecord with = reg(1);
  with.listeners = {{"INTERNAL", "10.0.0.1", 9091, "PLAINTEXT"},
                    {"EXTERNAL", "kafka1.example.com", 9093, "SASL_SSL"}};
  Applier a;
  REQUIRE(a.one(with));
  REQUIRE(a.one(reg(2)));  // an older broker: no listeners
  CHECK(a.state.find_broker(BrokerId{1})->listeners == with.listeners);
  CHECK(a.state.find_broker(BrokerId{2})->listeners.empty());
  Result<MetadataState> copy = MetadataState::from_snapshot(a.state.snapshot());
  REQUIRE(copy.ok());
  CHECK(copy.value().image() == a.state.image());
  CHECK(copy.value().find_broker(BrokerId{1})->listeners == with.listeners);
}

TEST_CASE("ACL records add and remove bindings idempotently and survive a snapshot") {
  Applier a;
  REQUIRE(a.one(AclRecord{"b1", false}));
  REQUIRE(a(RecordBatch{AclRecord{"b2", false}, AclRecord{"b1", false}}));
  CHECK(a.state.image().acls == std::set<std::string, std::less<>>{"b1", "b2"});
  // Overlapping DeleteAcls filters remove the same binding twice in one batch.
  REQUIRE(a(RecordBatch{AclRecord{"b1", true}, AclRecord{"b1", true}}));
  CHECK(a.state.image().acls == std::set<std::string, std::less<>>{"b2"});
  CHECK_FALSE(a.one(AclRecord{"", false}));

  Result<MetadataState> copy = MetadataState::from_snapshot(a.state.snapshot());
  REQUIRE(copy.ok());
  CHECK(copy.value().image().acls == a.state.image().acls);
}

TEST_CASE("globals written before ACLs existed (version 2) still load, with no ACLs") {
  MetadataImage image;
  image.next_producer_id = ProducerId{3000};
  image.scram_credentials["alice"]["SCRAM-SHA-256"] = "cred";
  // Version 2 layout: the current encoding minus the trailing ACL count.
  ByteWriter w;
  w.u8(2);
  w.i64(3000);
  w.u32(0);
  w.u32(1);
  w.str("alice");
  put_config_map(w, ConfigMap{{"SCRAM-SHA-256", "cred"}});
  MetadataImage decoded;
  decoded.acls.insert("stale");
  REQUIRE(decode_globals(w.take(), &decoded));
  CHECK(decoded == image);
  // And the current version round-trips its ACLs.
  image.acls = {"x", "y"};
  MetadataImage again;
  REQUIRE(decode_globals(encode_globals(image), &again));
  CHECK(again == image);
}

TEST_CASE("client quota records set, replace and remove quotas and survive a snapshot") {
  Applier a;
  const dmq::quota::Entity alice{{"user", "alice"}};
  const dmq::quota::Entity any_client{{"client-id", std::nullopt}};
  REQUIRE(a.one(ClientQuotaRecord{alice, "producer_byte_rate", 1024.0}));
  REQUIRE(a(RecordBatch{ClientQuotaRecord{alice, "producer_byte_rate", 2048.0},
                        ClientQuotaRecord{alice, "consumer_byte_rate", 4096.0},
                        ClientQuotaRecord{any_client, "request_percentage", 12.5}}));
  CHECK(a.state.image().client_quotas.at(alice).at("producer_byte_rate") == 2048.0);
  CHECK(a.state.image().client_quotas.at(any_client).at("request_percentage") == 12.5);
  Result<MetadataState> copy = MetadataState::from_snapshot(a.state.snapshot());
  REQUIRE(copy.ok());
  CHECK(copy.value().image().client_quotas == a.state.image().client_quotas);

  // Removing a missing quota is a no-op; removing the last key drops the entity.
  REQUIRE(a.one(ClientQuotaRecord{alice, "request_percentage", std::nullopt}));
  REQUIRE(a(RecordBatch{ClientQuotaRecord{any_client, "request_percentage", std::nullopt}}));
  CHECK(a.state.image().client_quotas.count(any_client) == 0);
  CHECK(a.state.image().client_quotas.at(alice).size() == 2);

  // What Kafka refuses is refused at apply too.
  CHECK_FALSE(a.one(ClientQuotaRecord{alice, "connection_creation_rate", 1.0}));
  CHECK_FALSE(a.one(ClientQuotaRecord{alice, "producer_byte_rate", -1.0}));
  CHECK_FALSE(a.one(ClientQuotaRecord{{{"ip", "10.0.0.1"}}, "producer_byte_rate", 1.0}));
  CHECK_FALSE(a.one(ClientQuotaRecord{{}, "producer_byte_rate", 1.0}));
}

TEST_CASE("globals written before client quotas existed (version 3) still load, with none") {
  ByteWriter w;
  w.u8(3);
  w.i64(0);
  w.u32(0);  // broker configs
  w.u32(0);  // SCRAM users
  w.u32(1);  // ACLs
  w.str("binding");
  MetadataImage decoded;
  decoded.client_quotas[{{"user", "stale"}}]["producer_byte_rate"] = 1;
  REQUIRE(decode_globals(w.take(), &decoded));
  CHECK(decoded.client_quotas.empty());
  CHECK(decoded.acls.size() == 1);
  // Entities out of order are refused: the encoding is canonical.
  MetadataImage image;
  image.client_quotas[{{"user", "a"}}]["producer_byte_rate"] = 1;
  image.client_quotas[{{"user", "b"}}]["producer_byte_rate"] = 2;
  std::string bytes = encode_globals(image);
  MetadataImage again;
  REQUIRE(decode_globals(bytes, &again));
  CHECK(again == image);
  ByteWriter unordered;
  unordered.u8(4);
  unordered.i64(0);
  unordered.u32(0);
  unordered.u32(0);
  unordered.u32(0);
  unordered.u32(2);
  for (const char* user : {"b", "a"}) {
    put_quota_entity(unordered, {{"user", user}});
    unordered.u32(1);
    unordered.str("producer_byte_rate");
    put_double(unordered, 1);
  }
  bytes = unordered.take();
  CHECK_FALSE(decode_globals(bytes, &again));
}
