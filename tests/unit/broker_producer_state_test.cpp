// ProducerStateTable: one test per idempotence rule (Kafka's
// ProducerStateManager semantics), the 5-batch cache, sequence wrap-around,
// the serialized image, and the rebuild from a real PartitionLog.
#include <doctest/doctest.h>

#include <limits>
#include <span>

#include "broker/producer_state.h"
#include "common/log.h"
#include "kafka/protocol/record_batch.h"
#include "store/file_env.h"
#include "store/partition_log.h"

using namespace dmq;
using dmq::broker::BatchIdentity;
using dmq::broker::ProducerStateTable;
using dmq::broker::SequenceCheck;
using dmq::broker::SequenceVerdict;

namespace {

constexpr int32_t kMaxSeq = std::numeric_limits<int32_t>::max();

const bool kQuietLogs = [] {
  log::configure(log::Level::kError, log::Format::kText);
  return true;
}();

// A batch of `records` records of producer `pid`/`epoch` starting at `seq`,
// placed at `offset` (the offsets the log gave it).
BatchIdentity batch(int64_t pid, int16_t epoch, int32_t seq, int32_t records, int64_t offset) {
  kafka::BatchHeader h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.last_offset_delta = records - 1;
  h.record_count = records;
  h.base_offset = offset;
  h.max_timestamp = 1000 + offset;
  return broker::batch_identity(h);
}

SequenceVerdict verdict(const ProducerStateTable& t, const BatchIdentity& b) {
  return t.check(b).verdict;
}

}  // namespace

TEST_CASE("batches without a producer id are appended and not tracked") {
  ProducerStateTable t;
  auto b = batch(-1, -1, -1, 3, 0);
  CHECK(verdict(t, b) == SequenceVerdict::kAppend);
  t.record(b, 0);
  CHECK(t.producer_count() == 0);
}

TEST_CASE("an unknown producer is accepted at any sequence (KIP-360)") {
  ProducerStateTable t;
  CHECK(verdict(t, batch(7, 0, 0, 1, 0)) == SequenceVerdict::kAppend);
  CHECK(verdict(t, batch(7, 0, 42, 1, 0)) == SequenceVerdict::kAppend);
  t.record(batch(7, 0, 42, 2, 0), 0);
  REQUIRE(t.find(7) != nullptr);
  CHECK(t.find(7)->batches.back().last_sequence == 43);
  CHECK(verdict(t, batch(7, 0, 44, 1, 2)) == SequenceVerdict::kAppend);
}

TEST_CASE("the next batch must start right after the latest one's last sequence") {
  ProducerStateTable t;
  t.record(batch(7, 0, 0, 3, 0), 0);  // sequences 0..2
  CHECK(verdict(t, batch(7, 0, 3, 2, 3)) == SequenceVerdict::kAppend);
  CHECK(verdict(t, batch(7, 0, 4, 1, 3)) == SequenceVerdict::kOutOfOrder);  // gap
  CHECK(verdict(t, batch(7, 0, 2, 1, 3)) == SequenceVerdict::kOutOfOrder);  // overlaps, not a dup
  CHECK(verdict(t, batch(7, 0, 1, 2, 3)) == SequenceVerdict::kOutOfOrder);
  CHECK(broker::to_error_code(SequenceVerdict::kOutOfOrder) ==
        kafka::ErrorCode::kOutOfOrderSequenceNumber);
  // Other producers have their own sequences.
  CHECK(verdict(t, batch(8, 0, 5, 1, 3)) == SequenceVerdict::kAppend);
}

TEST_CASE("a retry of a cached batch is a duplicate answered with the original offsets") {
  ProducerStateTable t;
  int64_t offset = 100;
  for (int32_t seq = 0; seq < 10; seq += 2) {  // five batches of two records
    t.record(batch(7, 0, seq, 2, offset), 0);
    offset += 2;
  }
  for (int32_t i = 0; i < 5; ++i) {
    SequenceCheck c = t.check(batch(7, 0, 2 * i, 2, -1));
    CHECK(c.verdict == SequenceVerdict::kDuplicate);
    CHECK(c.base_offset == 100 + 2 * i);
    CHECK(c.last_offset == 101 + 2 * i);
    CHECK(c.max_timestamp == 1000 + 100 + 2 * i);
  }
  CHECK(broker::to_error_code(SequenceVerdict::kDuplicate) == kafka::ErrorCode::kNone);
  // Same first sequence, different length: not the same batch.
  CHECK(verdict(t, batch(7, 0, 4, 3, -1)) == SequenceVerdict::kOutOfOrder);
  // A duplicate must carry the same epoch.
  CHECK(verdict(t, batch(7, 1, 4, 2, -1)) == SequenceVerdict::kOutOfOrder);
}

TEST_CASE("the sixth batch evicts the first from the cache") {
  ProducerStateTable t;
  for (int32_t i = 0; i < 6; ++i) t.record(batch(7, 0, i, 1, i), 0);
  REQUIRE(t.find(7)->batches.size() == ProducerStateTable::kMaxCachedBatches);
  CHECK(t.find(7)->batches.front().first_sequence == 1);
  // The first batch is no longer recognised: a retry that old is out of order.
  CHECK(verdict(t, batch(7, 0, 0, 1, -1)) == SequenceVerdict::kOutOfOrder);
  CHECK(t.check(batch(7, 0, 1, 1, -1)).base_offset == 1);
  CHECK(verdict(t, batch(7, 0, 6, 1, -1)) == SequenceVerdict::kAppend);
}

TEST_CASE("a lower producer epoch is fenced") {
  ProducerStateTable t;
  t.record(batch(7, 3, 0, 1, 0), 0);
  CHECK(verdict(t, batch(7, 2, 1, 1, 1)) == SequenceVerdict::kFencedEpoch);
  CHECK(verdict(t, batch(7, 2, 0, 1, 1)) == SequenceVerdict::kFencedEpoch);
  CHECK(broker::to_error_code(SequenceVerdict::kFencedEpoch) ==
        kafka::ErrorCode::kInvalidProducerEpoch);
}

TEST_CASE("a higher producer epoch must start at sequence 0 and resets the cache") {
  ProducerStateTable t;
  t.record(batch(7, 0, 0, 5, 0), 0);
  t.record(batch(7, 0, 5, 5, 5), 0);
  CHECK(verdict(t, batch(7, 1, 10, 1, 10)) == SequenceVerdict::kOutOfOrder);
  CHECK(verdict(t, batch(7, 1, 0, 1, 10)) == SequenceVerdict::kAppend);
  t.record(batch(7, 1, 0, 2, 10), 0);
  const auto* e = t.find(7);
  REQUIRE(e != nullptr);
  CHECK(e->epoch == 1);
  CHECK(e->batches.size() == 1);
  // The old epoch's batches are gone; the old epoch is now fenced.
  CHECK(verdict(t, batch(7, 0, 5, 5, -1)) == SequenceVerdict::kFencedEpoch);
  CHECK(verdict(t, batch(7, 1, 2, 1, 12)) == SequenceVerdict::kAppend);
}

TEST_CASE("a follower records an epoch change in either direction") {
  // record() never judges: it copies what the leader wrote.
  ProducerStateTable t;
  t.record(batch(7, 4, 0, 1, 0), 0);
  t.record(batch(7, 2, 9, 1, 1), 0);
  CHECK(t.find(7)->epoch == 2);
  CHECK(t.find(7)->batches.size() == 1);
}

TEST_CASE("sequences wrap from INT32_MAX to 0") {
  ProducerStateTable t;
  t.record(batch(7, 0, kMaxSeq - 1, 2, 0), 0);  // kMaxSeq-1 .. kMaxSeq
  CHECK(t.find(7)->batches.back().last_sequence == kMaxSeq);
  CHECK(verdict(t, batch(7, 0, 0, 1, 2)) == SequenceVerdict::kAppend);
  CHECK(verdict(t, batch(7, 0, 1, 1, 2)) == SequenceVerdict::kOutOfOrder);

  // A batch that spans the wrap: kMaxSeq-1, kMaxSeq, 0.
  ProducerStateTable u;
  auto spanning = batch(8, 0, kMaxSeq - 1, 3, 0);
  CHECK(spanning.last_sequence == 0);
  u.record(batch(8, 0, kMaxSeq - 3, 2, 0), 0);
  CHECK(verdict(u, spanning) == SequenceVerdict::kAppend);
  spanning.base_offset = 2;
  spanning.last_offset = 4;
  u.record(spanning, 0);
  CHECK(verdict(u, batch(8, 0, 1, 1, 5)) == SequenceVerdict::kAppend);
  CHECK(u.check(batch(8, 0, kMaxSeq - 1, 3, -1)).base_offset == 2);
}

TEST_CASE("expire drops producers idle for the expiration time") {
  ProducerStateTable t;
  t.record(batch(1, 0, 0, 1, 0), 1000);
  t.record(batch(2, 0, 0, 1, 1), 5000);
  CHECK(t.expire(5999, 5000) == 0);
  CHECK(t.expire(6000, 5000) == 1);
  CHECK(t.find(1) == nullptr);
  CHECK(t.find(2) != nullptr);
  // Once forgotten, the producer is unknown again: any sequence goes.
  CHECK(verdict(t, batch(1, 0, 77, 1, 2)) == SequenceVerdict::kAppend);
}

TEST_CASE("truncate_from forgets batches at and after the truncation offset") {
  ProducerStateTable t;
  t.record(batch(1, 0, 0, 2, 0), 0);  // offsets 0..1
  t.record(batch(2, 0, 0, 1, 2), 0);  // offset 2
  t.record(batch(1, 0, 2, 2, 3), 0);  // offsets 3..4
  t.truncate_from(3);
  CHECK(t.find(1)->batches.size() == 1);
  CHECK(verdict(t, batch(1, 0, 2, 2, 3)) == SequenceVerdict::kAppend);  // no longer a duplicate
  CHECK(t.find(2) != nullptr);
  t.truncate_from(2);
  CHECK(t.find(2) == nullptr);
  CHECK(t.producer_count() == 1);
}

TEST_CASE("serialize and parse round-trip; damaged images are refused") {
  ProducerStateTable t;
  for (int32_t i = 0; i < 7; ++i) t.record(batch(5, 2, i * 3, 3, 10 + i * 3), 100 + i);
  t.record(batch(9, 0, kMaxSeq, 1, 40), 200);
  t.record(batch(3, 1, 0, 1, 41), 300);
  const std::string image = t.serialize();

  auto back = ProducerStateTable::parse(image);
  REQUIRE(back.has_value());
  CHECK(*back == t);
  CHECK(back->check(batch(5, 2, 18, 3, -1)).base_offset == 28);

  auto empty = ProducerStateTable::parse(ProducerStateTable().serialize());
  REQUIRE(empty.has_value());
  CHECK(empty->producer_count() == 0);

  CHECK_FALSE(ProducerStateTable::parse(""));
  CHECK_FALSE(ProducerStateTable::parse(image.substr(0, image.size() - 1)));
  for (size_t i = 0; i < image.size(); i += 7) {
    std::string bad = image;
    bad[i] ^= 0x10;
    CHECK_FALSE(ProducerStateTable::parse(bad));
  }
}

namespace {

std::string idempotent_batch(int64_t pid, int16_t epoch, int32_t seq, int records) {
  kafka::RecordBatchBuilder::Options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  kafka::RecordBatchBuilder b(o);
  for (int i = 0; i < records; ++i) b.add(1000 + i, std::nullopt, "v");
  return b.build();
}

// Appends as the leader would and records the result, as the produce path
// does; returns the identity recorded.
BatchIdentity append(store::PartitionLog& log, ProducerStateTable& table, std::string bytes) {
  auto r = log.append(std::span<char>(bytes.data(), bytes.size()), 0);
  REQUIRE(r.ok());
  kafka::BatchHeader h;
  REQUIRE(kafka::read_batch_header(bytes, h) == kafka::BatchError::kOk);
  table.record(broker::batch_identity(h), 0);
  return broker::batch_identity(h);
}

}  // namespace

TEST_CASE("rebuild from a partition log reproduces the table the appends built") {
  store::MemFileEnv env;
  store::PartitionLogConfig config;
  config.segment_bytes = 400;  // several segments, so the rebuild crosses files
  auto opened = store::PartitionLog::open(env, "/data/logs/t-0", config, 0);
  REQUIRE(opened.ok());
  auto& log = *opened.value();

  ProducerStateTable live;
  int32_t seq_a = 0;
  int32_t seq_b = kMaxSeq - 4;  // this producer wraps during the test
  for (int round = 0; round < 8; ++round) {
    append(log, live, idempotent_batch(11, 0, seq_a, 2));
    seq_a += 2;
    append(log, live, idempotent_batch(-1, -1, -1, 3));  // not idempotent
    auto b = append(log, live, idempotent_batch(12, 1, seq_b, 3));
    seq_b = b.last_sequence == kMaxSeq ? 0 : b.last_sequence + 1;
  }
  REQUIRE(log.segment_count() > 2);
  REQUIRE(live.producer_count() == 2);

  ProducerStateTable rebuilt;
  auto end = broker::rebuild_producer_state(log, store::Offset(0), 0, rebuilt);
  REQUIRE(end.ok());
  CHECK(end.value() == log.log_end_offset());
  CHECK(rebuilt == live);

  // From a snapshot taken mid-way: the rest of the log completes it.
  ProducerStateTable head;
  auto half = broker::rebuild_producer_state(log, store::Offset(0), 0, head);
  REQUIRE(half.ok());
  const std::string snapshot = head.serialize();
  append(log, live, idempotent_batch(11, 0, seq_a, 1));
  append(log, live, idempotent_batch(13, 0, 0, 1));
  auto restored = ProducerStateTable::parse(snapshot);
  REQUIRE(restored.has_value());
  auto tail = broker::rebuild_producer_state(log, half.value(), 0, *restored);
  REQUIRE(tail.ok());
  CHECK(*restored == live);
  CHECK(restored->check(broker::BatchIdentity{11, 0, seq_a, seq_a, -1, -1, -1}).verdict ==
        SequenceVerdict::kDuplicate);

  // A snapshot newer than the log is refused, not trusted.
  ProducerStateTable ignored;
  auto beyond = broker::rebuild_producer_state(log, log.log_end_offset().next(), 0, ignored);
  CHECK_FALSE(beyond.ok());
}

TEST_CASE("record_batches records a follower's fetched batches and stops at a torn one") {
  std::string fetched;
  int64_t offset = 50;
  auto place = [&](std::string b) {
    kafka::set_base_offset(b.data(), offset);
    kafka::BatchHeader h;
    REQUIRE(kafka::read_batch_header(b, h) == kafka::BatchError::kOk);
    offset = h.last_offset() + 1;
    fetched += b;
  };
  place(idempotent_batch(21, 0, 0, 2));  // offsets 50..51
  place(idempotent_batch(-1, -1, -1, 1));
  {
    kafka::RecordBatchBuilder::Options o;  // a transaction marker: not producer data
    o.producer_id = 22;
    o.producer_epoch = 0;
    o.base_sequence = 0;
    o.attributes = dmq::batch_layout::kControlBit;
    kafka::RecordBatchBuilder b(o);
    b.add(1, "k", "v");
    place(b.build());
  }
  place(idempotent_batch(21, 0, 2, 1));  // offset 54

  ProducerStateTable t;
  CHECK(broker::record_batches(fetched, 0, t));
  CHECK(t.producer_count() == 1);
  REQUIRE(t.find(21) != nullptr);
  CHECK(t.find(21)->batches.size() == 2);
  CHECK(t.find(21)->batches.back().first_offset == 54);
  CHECK(t.check(broker::BatchIdentity{21, 0, 0, 1, -1, -1, -1}).base_offset == 50);

  // `from_offset` skips batches that end before it.
  ProducerStateTable from;
  CHECK(broker::record_batches(fetched, 0, from, 52));
  CHECK(from.find(21)->batches.size() == 1);

  ProducerStateTable torn;
  CHECK_FALSE(
      broker::record_batches(std::string_view(fetched).substr(0, fetched.size() - 1), 0, torn));
  CHECK(torn.find(21)->batches.size() == 1);  // the whole batches before the tear
}
