// LeaderEpochCache rules (KIP-101/KIP-279) and the checkpoint file formats.
#include <doctest/doctest.h>

#include "store/leader_epoch_cache.h"
#include "store/log_format.h"

using namespace dmq::store;

TEST_CASE("assign keeps epochs and start offsets strictly increasing") {
  LeaderEpochCache c;
  CHECK(c.assign(LeaderEpoch(1), Offset(0)));
  CHECK(!c.assign(LeaderEpoch(1), Offset(5)));  // known epoch, later offset: no change
  CHECK(!c.assign(LeaderEpoch(0), Offset(9)));  // an older epoch never rewrites history
  CHECK(c.assign(LeaderEpoch(2), Offset(10)));
  CHECK(c.assign(LeaderEpoch(3), Offset(20)));
  // Epoch 4 starting at 15 supersedes the entries at or after 15.
  CHECK(c.assign(LeaderEpoch(4), Offset(15)));
  CHECK(c.entries() == std::vector<EpochEntry>{{LeaderEpoch(1), Offset(0)},
                                               {LeaderEpoch(2), Offset(10)},
                                               {LeaderEpoch(4), Offset(15)}});
  CHECK(!c.assign(LeaderEpoch(-1), Offset(30)));
}

TEST_CASE("truncation from either end") {
  LeaderEpochCache c;
  c.assign(LeaderEpoch(1), Offset(0));
  c.assign(LeaderEpoch(2), Offset(10));
  c.assign(LeaderEpoch(3), Offset(20));
  CHECK(c.truncate_from_end(Offset(20)));
  CHECK(c.latest_epoch() == LeaderEpoch(2));
  CHECK(!c.truncate_from_end(Offset(20)));
  CHECK(c.truncate_from_start(Offset(12)));  // epoch 2 now starts at the log start
  CHECK(c.entries() == std::vector<EpochEntry>{{LeaderEpoch(2), Offset(12)}});
  CHECK(!c.truncate_from_start(Offset(12)));
  CHECK(c.end_offset_for(LeaderEpoch(1), Offset(30)).end_offset == Offset(12));
}

TEST_CASE("epoch checkpoint text round-trips and rejects garbage") {
  LeaderEpochCache c;
  c.assign(LeaderEpoch(1), Offset(0));
  c.assign(LeaderEpoch(5), Offset(100));
  std::string text = c.encode();
  CHECK(text == "0\n2\n1 0\n5 100\n");  // Kafka's leader-epoch-checkpoint format
  auto back = LeaderEpochCache::decode(text);
  REQUIRE(back.has_value());
  CHECK(back->entries() == c.entries());
  for (std::string bad : {"", "1\n0\n", "0\n2\n1 0\n", "0\n1\n1 x\n", "0\n2\n5 100\n1 0\n",
                          "0\n1\n-3 0\n", "0\n1\n1 0\nextra"}) {
    CHECK_MESSAGE(!LeaderEpochCache::decode(bad).has_value(), bad);
  }
}

TEST_CASE("partition checkpoint and segment names") {
  format::PartitionCheckpoint c{Offset(42), Offset(7), Offset(40)};
  auto back = format::decode_partition_checkpoint(format::encode_partition_checkpoint(c));
  REQUIRE(back.has_value());
  CHECK(back->high_watermark == Offset(42));
  CHECK(back->log_start_offset == Offset(7));
  CHECK(back->recovery_point == Offset(40));
  std::string text = format::encode_partition_checkpoint(c);
  CHECK(!format::decode_partition_checkpoint(text.substr(0, text.size() - 1)).has_value());
  CHECK(!format::decode_partition_checkpoint("").has_value());

  CHECK(format::segment_stem(Offset(42)) == "00000000000000000042");
  CHECK(format::parse_segment_name("00000000000000000042.log", ".log") == Offset(42));
  CHECK(!format::parse_segment_name("00000000000000000042.index", ".log").has_value());
  CHECK(!format::parse_segment_name("0000000000000000042.log", ".log").has_value());
  CHECK(!format::parse_segment_name("0000000000000000004x.log", ".log").has_value());
}
