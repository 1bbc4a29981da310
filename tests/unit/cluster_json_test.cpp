#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "cluster/json_views.h"

using namespace dmq::cluster;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

MetadataState sample() {
  MetadataState s;
  REQUIRE(s.apply(
      {RegisterBrokerRecord{BrokerId{1}, "i1", "10.0.0.1", 9092, "10.0.0.1", 8080, "rack \"a\""}},
      LogIndex{1}));
  REQUIRE(s.apply({RegisterBrokerRecord{BrokerId{2}, "i2", "10.0.0.2", 9093, "10.0.0.2", 8081, ""}},
                  LogIndex{2}));
  REQUIRE(s.apply({UnfenceBrokerRecord{BrokerId{1}, BrokerEpoch{1}}}, LogIndex{3}));
  REQUIRE(s.apply({CreateTopicRecord{"orders",
                                     "uuid-o",
                                     {{{BrokerId{1}, BrokerId{2}}}, {{BrokerId{2}, BrokerId{1}}}},
                                     {{"retention.ms", "60000"}}}},
                  LogIndex{4}));
  return s;
}

}  // namespace

TEST_CASE("brokers_json lists status, epoch and endpoints") {
  rapidjson::Document doc = parse(brokers_json(sample()));
  const auto& brokers = doc["brokers"];
  REQUIRE(brokers.Size() == 2);
  CHECK(brokers[0]["id"].GetInt() == 1);
  CHECK(std::string(brokers[0]["host"].GetString()) == "10.0.0.1");
  CHECK(brokers[0]["kafka_port"].GetInt() == 9092);
  CHECK(brokers[0]["http_port"].GetInt() == 8080);
  CHECK(std::string(brokers[0]["rack"].GetString()) == "rack \"a\"");
  CHECK(std::string(brokers[0]["status"].GetString()) == "alive");
  CHECK(brokers[0]["epoch"].GetInt64() == 1);
  CHECK(brokers[1]["rack"].IsNull());
  CHECK(std::string(brokers[1]["status"].GetString()) == "fenced");
}

TEST_CASE("topics_json and topic_json") {
  MetadataState s = sample();
  rapidjson::Document list = parse(topics_json(s));
  REQUIRE(list["topics"].Size() == 1);
  CHECK(std::string(list["topics"][0]["name"].GetString()) == "orders");
  CHECK(std::string(list["topics"][0]["id"].GetString()) == "uuid-o");
  CHECK(list["topics"][0]["partitions"].GetInt() == 2);
  CHECK(list["topics"][0]["replication_factor"].GetInt() == 2);

  CHECK_FALSE(topic_json(s, "nope").has_value());
  PartitionOffsetsFn offsets = [](std::string_view topic,
                                  PartitionId p) -> std::optional<PartitionOffsets> {
    if (topic != "orders" || p.value != 1) return std::nullopt;
    return PartitionOffsets{5, 42};
  };
  rapidjson::Document t = parse(*topic_json(s, "orders", offsets));
  const auto& parts = t["partitions"];
  REQUIRE(parts.Size() == 2);
  CHECK(parts[0]["leader"].GetInt() == 1);
  CHECK(parts[0]["leader_epoch"].GetInt() == 0);
  CHECK(parts[0]["replicas"].Size() == 2);
  CHECK(parts[0]["isr"].Size() == 1);  // broker 2 is fenced
  CHECK(parts[0]["high_watermark"].IsNull());
  CHECK(parts[1]["leader"].GetInt() == 1);
  CHECK(parts[1]["log_start_offset"].GetInt64() == 5);
  CHECK(parts[1]["high_watermark"].GetInt64() == 42);
  CHECK(std::string(t["configs"]["retention.ms"].GetString()) == "60000");
}

TEST_CASE("error_json and the create-topic body") {
  rapidjson::Document e = parse(error_json({ErrorCode::kTopicExists, "topic 'x' already exists"}));
  CHECK(std::string(e["error"]["code"].GetString()) == "topic_exists");
  CHECK(std::string(e["error"]["message"].GetString()) == "topic 'x' already exists");

  rapidjson::Document body = parse(R"({"name":"t","partitions":3,"configs":{"a":"b"}})");
  Result<CreateTopicRequest> r = parse_create_topic_request(body, 1, 2);
  REQUIRE(r.ok());
  CHECK(r.value().name == "t");
  CHECK(r.value().partitions == 3);
  CHECK(r.value().replication_factor == 2);  // the default
  CHECK(r.value().configs.at("a") == "b");
  for (const char* bad :
       {R"({"partitions":3})", R"({"name":5})", R"({"name":"t","partitions":"3"})",
        R"({"name":"t","configs":{"a":1}})", R"([1])"}) {
    CAPTURE(bad);
    Result<CreateTopicRequest> b = parse_create_topic_request(parse(bad), 1, 1);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code == ErrorCode::kInvalidRequest);
  }
}
