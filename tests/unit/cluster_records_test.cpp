#include <doctest/doctest.h>

#include <random>

#include "cluster/record_format.h"
#include "cluster/records.h"

using namespace dmq::cluster;

namespace {

RecordBatch every_record_type() {
  RegisterBrokerRecord reg{BrokerId{3}, "5f0c-uuid", "10.0.0.3", 9092, "10.0.0.3", 8080, "rack-a"};
  CreateTopicRecord create{"orders",
                           "topic-uuid-1",
                           {{{BrokerId{1}, BrokerId{2}}}, {{BrokerId{2}, BrokerId{3}}}},
                           {{"retention.ms", "1000"}, {"cleanup.policy", "delete"}}};
  PartitionChangeRecord change{"orders", PartitionId{1}, PartitionEpoch{7}, BrokerId{3},
                               std::vector<BrokerId>{BrokerId{3}}};
  PartitionChangeRecord offline{"orders", PartitionId{0}, PartitionEpoch{2}, kNoLeader,
                                std::nullopt};
  PartitionChangeRecord reassign{"orders", PartitionId{1}, PartitionEpoch{8}, std::nullopt,
                                 std::nullopt};
  reassign.replicas = std::vector<BrokerId>{BrokerId{4}, BrokerId{1}, BrokerId{2}};
  reassign.adding_replicas = {BrokerId{4}};
  reassign.removing_replicas = {BrokerId{2}};
  ConfigChangeRecord config{ConfigResource::kBroker, "3", {{"a", "1"}, {"b", std::nullopt}}};
  RegisterBrokerRecord with_listeners = reg;
  with_listeners.listeners = {{"INTERNAL", "10.0.0.3", 9092, "PLAINTEXT"},
                              {"EXTERNAL", "kafka3.example.com", 9093, "SASL_SSL"}};
  return {NoOpRecord{},
          reg,
          with_listeners,
          FenceBrokerRecord{BrokerId{3}, BrokerEpoch{42}},
          UnfenceBrokerRecord{BrokerId{3}, BrokerEpoch{42}},
          UnregisterBrokerRecord{BrokerId{3}, BrokerEpoch{42}},
          create,
          DeleteTopicRecord{"orders", "topic-uuid-1"},
          CreatePartitionsRecord{"orders", "topic-uuid-1", {{{BrokerId{1}}}}},
          change,
          offline,
          reassign,
          AllocateProducerIdsRecord{BrokerId{3}, BrokerEpoch{42}, ProducerId{2000}},
          config,
          UserScramCredentialRecord{"alice", "SCRAM-SHA-512", "salt=..,iterations=4096"},
          UserScramCredentialRecord{"alice", "SCRAM-SHA-256", std::nullopt},
          AclRecord{std::string("\x01\x02\x03acl", 6), false},
          AclRecord{"binding", true},
          ClientQuotaRecord{
              {{"client-id", std::nullopt}, {"user", "alice"}}, "producer_byte_rate", 1048576.0},
          ClientQuotaRecord{{{"client-id", "app"}}, "request_percentage", std::nullopt}};
}

}  // namespace

TEST_CASE("every record type survives an encode/decode round trip") {
  RecordBatch batch = every_record_type();
  std::string bytes = encode_batch(batch);
  Result<RecordBatch> decoded = decode_batch(bytes);
  REQUIRE(decoded.ok());
  REQUIRE(decoded.value().size() == batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    INFO("record " << i << " " << record_name(batch[i]));
    CHECK(decoded.value()[i] == batch[i]);
  }
  // Each record alone too, so a decoder that leans on its neighbours fails.
  for (const Record& r : batch) {
    Result<RecordBatch> one = decode_batch(encode_batch({r}));
    REQUIRE(one.ok());
    CHECK(one.value().front() == r);
  }
}

TEST_CASE("every truncation of a batch is an error value") {
  std::string bytes = encode_batch(every_record_type());
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<RecordBatch> r = decode_batch(std::string_view(bytes).substr(0, n));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kMalformedRecord);
  }
}

TEST_CASE("malformed headers are rejected with a reason") {
  std::string good = encode_batch({NoOpRecord{}});
  SUBCASE("trailing bytes") {
    CHECK_FALSE(decode_batch(good + "x").ok());
  }
  SUBCASE("unknown batch version") {
    std::string bad = good;
    bad[0] = 9;
    Result<RecordBatch> r = decode_batch(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("version") != std::string::npos);
  }
  SUBCASE("unknown record type") {
    std::string bad = good;
    bad[5] = 99;
    Result<RecordBatch> r = decode_batch(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("unknown record type") != std::string::npos);
  }
  SUBCASE("unknown record version") {
    std::string bad = good;
    bad[6] = 5;
    CHECK_FALSE(decode_batch(bad).ok());
  }
  SUBCASE("zero records") {
    std::string bad("\x01\x00\x00\x00\x00", 5);
    CHECK_FALSE(decode_batch(bad).ok());
  }
  SUBCASE("a huge count with few bytes does not allocate or loop") {
    std::string bad("\x01\xff\xff\xff\xff\x00\x00", 7);
    CHECK_FALSE(decode_batch(bad).ok());
  }
  SUBCASE("an invalid boolean byte") {
    PartitionChangeRecord pc{"t", PartitionId{0}, PartitionEpoch{0}, std::nullopt, std::nullopt};
    std::string bytes = encode_batch({pc});
    // Layout: version, count(4), type, version, str "t" (4+1), i32, i32, bool...
    size_t flag = 1 + 4 + 2 + 5 + 4 + 4;
    REQUIRE(bytes[flag] == 0);
    bytes[flag] = 2;
    CHECK_FALSE(decode_batch(bytes).ok());
  }
}

TEST_CASE("random corruption never crashes the decoder") {
  std::string good = encode_batch(every_record_type());
  std::mt19937 rng(1234);
  int decoded_ok = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    Result<RecordBatch> r = decode_batch(bytes);
    if (r.ok()) {
      ++decoded_ok;
      // Whatever decodes must re-encode to the same bytes (no lossy parse).
      CHECK(encode_batch(r.value()) == bytes);
    }
  }
  CHECK(decoded_ok < 2000);
}

TEST_CASE("a registration without listeners keeps the version 0 layout; with them, version 1") {
  RegisterBrokerRecord old{BrokerId{3}, "uuid", "10.0.0.3", 9092, "10.0.0.3", 8080, ""};
  std::string bytes = encode_batch({old});
  CHECK(static_cast<uint8_t>(bytes[6]) == format::kRecordVersion);  // batch v, count, type, version
  RegisterBrokerRecord now = old;
  now.listeners = {{"PLAINTEXT", "10.0.0.3", 9092, "PLAINTEXT"}};
  std::string with = encode_batch({now});
  CHECK(static_cast<uint8_t>(with[6]) == format::kRegisterBrokerListenersVersion);
  // Version 1 is only a RegisterBroker version: another record type with it is refused.
  std::string fence = encode_batch({FenceBrokerRecord{BrokerId{3}, BrokerEpoch{1}}});
  fence[6] = static_cast<char>(format::kRegisterBrokerListenersVersion);
  CHECK_FALSE(decode_batch(fence).ok());
}
