// TxnIndex: open transactions, the LSO, the aborted index, truncation; the
// control batch codec.
#include <doctest/doctest.h>

#include "broker/producer_state.h"
#include "broker/txn_index.h"
#include "kafka/protocol/record_batch.h"

using namespace dmq::broker;

TEST_CASE("control batches round-trip their type") {
  std::string commit = build_control_batch(5, 1, ControlType::kCommit, 3, 100);
  std::string abort = build_control_batch(5, 1, ControlType::kAbort, 3, 100);
  CHECK(control_type_of(commit) == ControlType::kCommit);
  CHECK(control_type_of(abort) == ControlType::kAbort);
  dmq::kafka::BatchHeader h;
  REQUIRE(dmq::kafka::read_batch_header(commit, h) == dmq::kafka::BatchError::kOk);
  CHECK(h.is_control());
  CHECK(h.is_transactional());
  CHECK(h.producer_id == 5);
  dmq::kafka::RecordBatchBuilder plain;
  plain.add(1, std::string_view("k"), std::string_view("v"));
  CHECK_FALSE(control_type_of(plain.build()));
}

TEST_CASE("the LSO stops at the first open transaction and at an uncommitted marker") {
  TxnIndex t;
  CHECK(t.last_stable_offset(10) == 10);
  t.on_data(1, 0, 3);
  t.on_data(1, 0, 5);  // the same transaction: still starts at 3
  t.on_data(2, 0, 4);
  CHECK(t.last_stable_offset(10) == 3);
  t.on_marker(1, 0, ControlType::kCommit, 8);
  CHECK(t.last_stable_offset(8) == 3);  // the marker is not below the HW yet
  t.advance(9);
  CHECK(t.last_stable_offset(9) == 4);
  t.on_marker(2, 0, ControlType::kAbort, 9);
  t.advance(10);
  CHECK(t.last_stable_offset(10) == 10);
  REQUIRE(t.aborted_between(0, 10).size() == 1);
  CHECK(t.aborted_between(0, 10)[0] == AbortedTxn{2, 4, 9});
  CHECK(t.aborted_between(10, 20).empty());  // ended before the fetch offset
  CHECK(t.aborted_between(0, 4).empty());    // starts at or after the end
}

TEST_CASE("markers carry the epoch that fences older batches; truncation reopens") {
  TxnIndex t;
  t.on_data(1, 2, 10);
  t.on_marker(1, 3, ControlType::kAbort, 12);
  CHECK(t.marker_epoch(1) == 3);
  CHECK(t.marker_epoch(9) == -1);
  CHECK_FALSE(t.is_open(1));
  t.truncate_from(12);  // the marker went with a divergent tail
  CHECK(t.is_open(1));
  CHECK(t.aborted_count() == 0);
  t.truncate_from(10);
  CHECK_FALSE(t.is_open(1));
}

TEST_CASE("record_batches rebuilds open and aborted transactions from the log bytes") {
  auto data = [](int64_t pid, int64_t base) {
    dmq::kafka::RecordBatchBuilder::Options o;
    o.producer_id = pid;
    o.producer_epoch = 0;
    o.base_sequence = 0;
    o.base_offset = base;
    o.attributes = 0x10;
    dmq::kafka::RecordBatchBuilder b(o);
    b.add(1, std::string_view("k"), std::string_view("v"));
    return b.build();
  };
  std::string abort = build_control_batch(1, 0, ControlType::kAbort, 0, 1);
  dmq::kafka::set_base_offset(abort.data(), 1);
  std::string log = data(1, 0) + abort + data(2, 2);
  ProducerStateTable table;
  TxnIndex t;
  REQUIRE(record_batches(log, 0, table, 0, &t));
  CHECK(t.is_open(2));
  CHECK_FALSE(t.is_open(1));
  CHECK(t.aborted_between(0, 3).size() == 1);
  CHECK(t.last_stable_offset(3) == 2);
}
