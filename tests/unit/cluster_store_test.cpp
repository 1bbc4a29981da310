#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "cluster/metadata_store.h"

using namespace dmq::cluster;
using dmq::store::Env;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path =
        std::filesystem::temp_directory_path() / ("dmq_cluster_test_" + std::to_string(::getpid()) +
                                                  "_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

RegisterBrokerRecord reg(int id) {
  return {BrokerId{id}, "inc", "h", 9092, "h", 8080, ""};
}

std::vector<CommittedEntry> sample_entries() {
  CreateTopicRecord t{"events", "uuid-e", {{{BrokerId{1}}}, {{BrokerId{1}}}}, {{"k", "v"}}};
  return {
      {LogIndex{1}, encode_batch({reg(1)})},
      {LogIndex{2}, encode_batch({UnfenceBrokerRecord{BrokerId{1}, BrokerEpoch{1}}})},
      {LogIndex{3}, ""},
      {LogIndex{4}, encode_batch({t})},
      {LogIndex{5}, encode_batch({t})},  // rejected: exists
      {LogIndex{6},
       encode_batch({AllocateProducerIdsRecord{BrokerId{1}, BrokerEpoch{1}, ProducerId{0}}})},
  };
}

}  // namespace

TEST_CASE("applied entries and the applied index survive a reopen") {
  TempDir dir;
  std::string snap;
  {
    auto env = Env::open({.path = dir.path.string()});
    MetadataStore store(*env);
    REQUIRE(store.load());
    std::vector<ApplyResult> results = store.apply_committed(sample_entries());
    REQUIRE(results.size() == 6);
    CHECK(results[3].status.ok());
    REQUIRE_FALSE(results[4].status.ok());
    CHECK(results[4].status.error().code == ErrorCode::kTopicExists);
    CHECK(store.applied_index() == LogIndex{6});
    snap = store.snapshot();
  }
  auto env = Env::open({.path = dir.path.string()});
  MetadataStore store(*env);
  REQUIRE(store.load());
  CHECK(store.applied_index() == LogIndex{6});
  CHECK(store.snapshot() == snap);
  CHECK(store.state().image().next_producer_id == ProducerId{1000});
  CHECK(store.state().find_topic_by_id("uuid-e") != nullptr);
  // Redelivered entries (a restart re-reading the log) are skipped, not applied twice.
  std::vector<ApplyResult> again = store.apply_committed(sample_entries());
  CHECK(again.empty());
  CHECK(store.snapshot() == snap);
}

TEST_CASE("deleting a topic or broker removes its row") {
  TempDir dir;
  auto env = Env::open({.path = dir.path.string()});
  {
    MetadataStore store(*env);
    store.apply_committed(sample_entries());
    auto r = store.apply_committed(
        {{LogIndex{7}, encode_batch({DeleteTopicRecord{"events", "uuid-e"}})}});
    REQUIRE(r.size() == 1);
    CHECK(r[0].status.ok());
  }
  MetadataStore reopened(*env);
  REQUIRE(reopened.load());
  CHECK(reopened.state().image().topics.empty());
  CHECK(reopened.applied_index() == LogIndex{7});
}

TEST_CASE("two stores applying the same entries produce identical snapshots") {
  TempDir d1, d2;
  auto e1 = Env::open({.path = d1.path.string()});
  auto e2 = Env::open({.path = d2.path.string()});
  MetadataStore s1(*e1), s2(*e2);
  std::vector<CommittedEntry> entries = sample_entries();
  // Different commit batching must not matter.
  s1.apply_committed(entries);
  for (const CommittedEntry& e : entries) s2.apply_committed({e});
  CHECK(s1.snapshot() == s2.snapshot());
  MetadataStore r1(*e1), r2(*e2);
  REQUIRE(r1.load());
  REQUIRE(r2.load());
  CHECK(r1.snapshot() == r2.snapshot());
}

TEST_CASE("restore replaces every table and persists") {
  TempDir src_dir, dst_dir;
  auto src_env = Env::open({.path = src_dir.path.string()});
  MetadataStore src(*src_env);
  src.apply_committed(sample_entries());
  std::string snap = src.snapshot();

  auto env = Env::open({.path = dst_dir.path.string()});
  {
    MetadataStore dst(*env);
    // Something the snapshot does not have, which restore must remove.
    dst.apply_committed({{LogIndex{1}, encode_batch({reg(7)})}});
    Status wrong_index = dst.restore(snap, LogIndex{5});
    CHECK_FALSE(wrong_index.ok());
    Status garbage = dst.restore("garbage", LogIndex{6});
    REQUIRE_FALSE(garbage.ok());
    CHECK(garbage.error().code == ErrorCode::kCorruptStore);
    CHECK(dst.state().find_broker(BrokerId{7}) != nullptr);
    REQUIRE(dst.restore(snap, LogIndex{6}));
    CHECK(dst.snapshot() == snap);
  }
  MetadataStore reopened(*env);
  REQUIRE(reopened.load());
  CHECK(reopened.snapshot() == snap);
  CHECK(reopened.state().find_broker(BrokerId{7}) == nullptr);
}

TEST_CASE("a corrupt table row is an error value at load") {
  TempDir dir;
  auto env = Env::open({.path = dir.path.string()});
  {
    MetadataStore store(*env);
    store.apply_committed(sample_entries());
  }
  auto topics = env->open_db("cluster_topics");
  env->write([&](dmq::store::WriteTxn& txn) { txn.put(topics, "events", "\x01short"); });
  MetadataStore store(*env);
  Status s = store.load();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kCorruptStore);
}

TEST_CASE("staged apply inside the caller's transaction: re-runnable, published after commit") {
  TempDir dir;
  auto env = Env::open({.path = dir.path.string()});
  auto other = env->open_db("caller_table");
  MetadataStore store(*env);
  store.stage(sample_entries());
  CHECK(store.applied_index() == LogIndex{0});  // nothing visible before publish
  int runs = 0;
  env->write([&](dmq::store::WriteTxn& txn) {
    txn.put(other, "raft", "log");
    // Env::write may re-run the function after growing the map.
    store.write_staged(txn);
    store.write_staged(txn);
    ++runs;
  });
  CHECK(runs == 1);
  std::vector<ApplyResult> results = store.publish_staged();
  REQUIRE(results.size() == 6);
  CHECK(store.applied_index() == LogIndex{6});
  std::string snap = store.snapshot();
  MetadataStore reopened(*env);
  REQUIRE(reopened.load());
  CHECK(reopened.snapshot() == snap);
}
