// The transaction state machine (txn_state.h) and its __transaction_state
// records; the partition side's TxnIndex (LSO, aborted index) lives in
// broker_txn_index_test.cpp.
#include <doctest/doctest.h>

#include "txn/txn_state.h"

using namespace dmq::txn;
using dmq::kafka::ErrorCode;

namespace {

TxnMetadata ongoing(int64_t pid, int16_t epoch) {
  TxnMetadata m;
  m.producer_id = pid;
  m.producer_epoch = epoch;
  m.state = TxnState::kOngoing;
  m.partitions = {{"a", 0}, {"b", 2}};
  m.start_ms = 1000;
  m.timeout_ms = 500;
  return m;
}

}  // namespace

TEST_CASE("records round-trip in Kafka's key/value layout") {
  CHECK(decode_key(encode_key("tx-1")) == std::optional<std::string>("tx-1"));
  // Key version 0, int16 length, bytes.
  CHECK(encode_key("ab") == std::string("\0\0\0\2ab", 6));
  TxnMetadata m = ongoing(42, 3);
  m.last_update_ms = 1234;
  auto back = decode_value(encode_value(m));
  REQUIRE(back);
  CHECK(back->producer_id == 42);
  CHECK(back->producer_epoch == 3);
  CHECK(back->state == TxnState::kOngoing);
  CHECK(back->partitions == m.partitions);
  CHECK(back->start_ms == 1000);
  CHECK(back->last_update_ms == 1234);
  CHECK_FALSE(decode_value("\0\1"));  // another version
  std::string cut = encode_value(m);
  cut.pop_back();
  CHECK_FALSE(decode_value(cut));
  CHECK_FALSE(decode_key(encode_key("x") + "junk"));
}

TEST_CASE("InitProducerId: a new id, then epoch bumps; an open transaction is aborted first") {
  Transition first = init_producer(std::nullopt, 60000, -1, -1, 10);
  CHECK(first.error == ErrorCode::kNone);
  CHECK(first.needs_new_producer_id);
  TxnMetadata m = *first.next;
  m.producer_id = 7;
  m.producer_epoch = 0;
  Transition again = init_producer(m, 60000, -1, -1, 20);
  REQUIRE(again.next);
  CHECK(again.next->producer_epoch == 1);
  CHECK(again.next->producer_id == 7);
  CHECK_FALSE(again.needs_new_producer_id);
  Transition open = init_producer(ongoing(7, 1), 60000, -1, -1, 30);
  CHECK(open.abort_first);
  CHECK(open.error == ErrorCode::kConcurrentTransactions);
  TxnMetadata exhausted = m;
  exhausted.producer_epoch = kLastBumpableEpoch;
  CHECK(init_producer(exhausted, 60000, -1, -1, 40).needs_new_producer_id);
}

TEST_CASE("KIP-360: a client naming an old id/epoch is fenced; the current one may bump") {
  TxnMetadata m;
  m.producer_id = 7;
  m.producer_epoch = 4;
  m.last_producer_id = 7;
  m.last_producer_epoch = 3;
  m.state = TxnState::kCompleteAbort;
  CHECK(init_producer(m, 1000, 7, 4, 0).error == ErrorCode::kNone);
  CHECK(init_producer(m, 1000, 7, 3, 0).error == ErrorCode::kNone);  // a retried bump
  CHECK(init_producer(m, 1000, 7, 2, 0).error == ErrorCode::kProducerFenced);
  CHECK(init_producer(m, 1000, 8, 4, 0).error == ErrorCode::kProducerFenced);
}

TEST_CASE("AddPartitions: fencing, id mapping, concurrent end, idempotent retry") {
  TxnMetadata m = ongoing(7, 2);
  CHECK(add_partitions_to(m, 7, 1, {{"c", 0}}, 0).error == ErrorCode::kProducerFenced);
  CHECK(add_partitions_to(m, 8, 2, {{"c", 0}}, 0).error == ErrorCode::kInvalidProducerIdMapping);
  CHECK_FALSE(add_partitions_to(m, 7, 2, {{"a", 0}}, 0).next);  // nothing new to write
  auto added = add_partitions_to(m, 7, 2, {{"c", 1}}, 0);
  REQUIRE(added.next);
  CHECK(added.next->partitions.size() == 3);
  m.state = TxnState::kPrepareCommit;
  CHECK(add_partitions_to(m, 7, 2, {{"c", 0}}, 0).error == ErrorCode::kConcurrentTransactions);
  m.state = TxnState::kCompleteCommit;
  auto fresh = add_partitions_to(m, 7, 2, {{"c", 0}}, 77);
  REQUIRE(fresh.next);
  CHECK(fresh.next->state == TxnState::kOngoing);
  CHECK(fresh.next->partitions == std::set<TopicPartition>{{"c", 0}});
  CHECK(fresh.next->start_ms == 77);
}

TEST_CASE("EndTxn: prepare, retries after completion, and the wrong result") {
  TxnMetadata m = ongoing(7, 2);
  auto commit = end_transaction(m, 7, 2, true, 0);
  REQUIRE(commit.next);
  CHECK(commit.next->state == TxnState::kPrepareCommit);
  CHECK(end_transaction(*commit.next, 7, 2, true, 0).error == ErrorCode::kConcurrentTransactions);
  CHECK(end_transaction(*commit.next, 7, 2, false, 0).error == ErrorCode::kInvalidTxnState);
  TxnMetadata done = complete(*commit.next, 5);
  CHECK(done.state == TxnState::kCompleteCommit);
  CHECK(done.partitions.empty());
  CHECK(end_transaction(done, 7, 2, true, 0).error == ErrorCode::kNone);
  CHECK_FALSE(end_transaction(done, 7, 2, true, 0).next);
  CHECK(end_transaction(done, 7, 2, false, 0).error == ErrorCode::kInvalidTxnState);
  CHECK(end_transaction(m, 7, 1, true, 0).error == ErrorCode::kProducerFenced);
}

TEST_CASE("the coordinator's abort bumps the epoch: the old producer's EndTxn is fenced") {
  TxnMetadata m = ongoing(7, 2);
  CHECK(timed_out(m, 1501));
  CHECK_FALSE(timed_out(m, 1500));
  TxnMetadata aborting = begin_abort(m, true, 1600);
  CHECK(aborting.state == TxnState::kPrepareAbort);
  CHECK(aborting.producer_epoch == 3);
  CHECK(end_transaction(complete(aborting, 1700), 7, 2, true, 0).error ==
        ErrorCode::kProducerFenced);
}

TEST_CASE("KIP-890 verification: only the ongoing transaction's partitions, same epoch") {
  TxnMetadata m = ongoing(7, 2);
  CHECK(verify_partition(m, 7, 2, {"a", 0}) == ErrorCode::kNone);
  CHECK(verify_partition(m, 7, 2, {"a", 1}) == ErrorCode::kInvalidTxnState);
  CHECK(verify_partition(m, 7, 1, {"a", 0}) == ErrorCode::kInvalidProducerEpoch);
  CHECK(verify_partition(m, 9, 2, {"a", 0}) == ErrorCode::kInvalidProducerIdMapping);
  m.state = TxnState::kPrepareCommit;  // a batch arriving after EndTxn
  CHECK(verify_partition(m, 7, 2, {"a", 0}) == ErrorCode::kInvalidTxnState);
}

TEST_CASE("state names are Kafka's") {
  CHECK(state_name(TxnState::kPrepareCommit) == "PrepareCommit");
  CHECK(state_from_name("CompleteAbort") == TxnState::kCompleteAbort);
  CHECK_FALSE(state_from_name("Bogus"));
}

TEST_CASE("PRODUCER_FENCED reaches older clients as INVALID_PRODUCER_EPOCH (KIP-588)") {
  CHECK(fenced_for_version(ErrorCode::kProducerFenced, 1, 2) == ErrorCode::kInvalidProducerEpoch);
  CHECK(fenced_for_version(ErrorCode::kProducerFenced, 2, 2) == ErrorCode::kProducerFenced);
  CHECK(fenced_for_version(ErrorCode::kProducerFenced, 3, 4) == ErrorCode::kInvalidProducerEpoch);
  CHECK(fenced_for_version(ErrorCode::kNone, 0, 2) == ErrorCode::kNone);
}
