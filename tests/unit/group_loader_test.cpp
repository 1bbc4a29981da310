// Loading a __consumer_offsets partition: the last value of each key wins,
// tombstones delete, records outside [next, end) and unreadable ones are
// skipped, partial batches at the end of a chunk wait for the next read.
#include <doctest/doctest.h>

#include "group/coordinator_internal.h"
#include "kafka/protocol/record_batch.h"

using namespace dmq::group;
using dmq::kafka::RecordBatchBuilder;

namespace {

std::string batch(int64_t base_offset,
                  const std::vector<std::pair<std::string, std::optional<std::string>>>& records) {
  RecordBatchBuilder::Options o;
  o.base_offset = base_offset;
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
