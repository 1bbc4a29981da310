// Loading a __consumer_offsets partition: the last value of each key wins,
// tombstones delete, records outside [next, end) and unreadable ones are
// skipped, partial batches at the end of a chunk wait for the next read;
// transactional offsets wait for their producer's COMMIT or ABORT marker.
#include <doctest/doctest.h>

#include "broker/txn_index.h"
#include "common/batch_layout.h"
#include "group/coordinator_internal.h"
#include "kafka/protocol/record_batch.h"

using namespace dmq::group;
using dmq::kafka::RecordBatchBuilder;

namespace {

std::string batch(int64_t base_offset,
                  const std::vector<std::pair<std::string, std::optional<std::string>>>& records,
                  int64_t transactional_producer = -1) {
  RecordBatchBuilder::Options o;
  o.base_offset = base_offset;
  if (transactional_producer >= 0) {
    o.producer_id = transactional_producer;
    o.producer_epoch = 0;
    o.base_sequence = 0;
    o.attributes = dmq::batch_layout::kTransactionalBit;
  }
  RecordBatchBuilder b(o);
  for (const auto& [k, v] : records) {
    if (v) {
      b.add(1000, std::string_view(k), std::string_view(*v));
    } else {
      b.add(1000, std::string_view(k), std::nullopt);
    }
  }
  return b.build();
}

CommittedOffset at(int64_t offset) {
  return CommittedOffset{offset, -1, "", 1, std::nullopt};
}

}  // namespace

TEST_CASE("the last record of each key wins and tombstones delete") {
  GroupSnapshot snap;
  snap.protocol_type = "consumer";
  snap.generation_id = 3;
  std::string bytes = batch(0, {{encode_offset_key("g", {"t", 0}), encode_offset_value(at(5))},
                                {encode_offset_key("g", {"t", 1}), encode_offset_value(at(7))},
                                {encode_group_key("g"), encode_group_value(snap)}}) +
                      batch(3, {{encode_offset_key("g", {"t", 0}), encode_offset_value(at(9))},
                                {encode_offset_key("g", {"t", 1}), std::nullopt},
                                {encode_group_key(""), std::nullopt}});  // a load marker
  LoadState state;
  state.next = 0;
  state.end = 6;
  apply_batches(bytes, state);
  CHECK(state.next == 6);
  CHECK(state.records == 6);
  CHECK(state.skipped == 0);
  CHECK(state.offsets["g"][{"t", 0}] == at(9));
  CHECK_FALSE(state.offsets["g"][{"t", 1}]);
  REQUIRE(state.meta["g"]);
  CHECK(state.meta["g"]->generation_id == 3);
}

TEST_CASE("records before next or at/after end are ignored; partial batches wait") {
  std::string first = batch(10, {{encode_offset_key("g", {"t", 0}), encode_offset_value(at(1))},
                                 {encode_offset_key("g", {"t", 0}), encode_offset_value(at(2))}});
  std::string second = batch(12, {{encode_offset_key("g", {"t", 0}), encode_offset_value(at(3))},
                                  {encode_offset_key("g", {"t", 0}), encode_offset_value(at(4))}});
  LoadState state;
  state.next = 11;  // the fetch started in the middle of the first batch
  state.end = 13;
  apply_batches(first + second.substr(0, second.size() - 1), state);
  CHECK(state.next == 12);  // the torn second batch is not consumed
  CHECK(state.offsets["g"][{"t", 0}] == at(2));
  apply_batches(second, state);
  CHECK(state.next == 14);
  CHECK(state.offsets["g"][{"t", 0}] == at(3));  // offset 13 is past the end
}

TEST_CASE("unreadable records are skipped, not trusted") {
  std::string bytes = batch(0, {{"garbage-key", std::string("x")},
                                {encode_offset_key("g", {"t", 0}), std::string("\x00", 1)},
                                {encode_offset_key("g", {"t", 0}), encode_offset_value(at(4))}});
  LoadState state;
  state.end = 3;
  apply_batches(bytes, state);
  CHECK(state.skipped == 2);
  CHECK(state.records == 1);
  CHECK(state.offsets["g"][{"t", 0}] == at(4));
  // A corrupt length never makes the loader read past the bytes.
  std::string bad = bytes;
  bad[8] = '\x7f';
  LoadState s2;
  s2.end = 3;
  apply_batches(bad, s2);
  CHECK(s2.next == 0);
}

TEST_CASE("transactional offsets count only once their producer's COMMIT marker is read") {
  using dmq::broker::build_control_batch;
  using dmq::broker::ControlType;
  auto marker = [](int64_t offset, int64_t producer, ControlType type) {
    std::string m = build_control_batch(producer, 0, type, 0, 1000);
    dmq::kafka::set_base_offset(m.data(), offset);
    return m;
  };
  std::string bytes =
      batch(0, {{encode_offset_key("g", {"t", 0}), encode_offset_value(at(1))}}) +
      batch(1, {{encode_offset_key("g", {"t", 0}), encode_offset_value(at(50))}}, 7) +
      batch(2, {{encode_offset_key("g", {"t", 1}), encode_offset_value(at(60))}}, 8) +
      batch(3, {{encode_offset_key("g", {"t", 2}), encode_offset_value(at(70))}}, 9) +
      marker(4, 8, ControlType::kAbort) + marker(5, 7, ControlType::kCommit);
  LoadState state;
  state.end = 6;
  apply_batches(bytes, state);
  CHECK(state.next == 6);
  CHECK(state.skipped == 0);
  CHECK(state.offsets["g"][{"t", 0}] == at(50));    // committed by producer 7
  CHECK_FALSE(state.offsets["g"].count({"t", 1}));  // aborted by producer 8
  CHECK_FALSE(state.offsets["g"].count({"t", 2}));  // producer 9's marker is not read yet
  REQUIRE(state.pending_txn.count(9));
  CHECK(state.pending_txn[9]["g"][{"t", 2}] == at(70));
  CHECK(state.pending_txn.size() == 1);
}
