// What the controller RPCs rely on at apply time: a change planned on a state
// that moved before it committed is refused, never applied on top (KIP-497,
// KIP-841, KIP-730). The controller plans on its current image and proposes;
// other proposals can commit in between.
#include <doctest/doctest.h>

#include "cluster/election.h"
#include "cluster/metadata_state.h"
#include "cluster/placement.h"

using namespace dmq::cluster;

namespace {

struct Cluster {
  MetadataState state;
  uint64_t next = 1;
  Status apply(Record r) { return state.apply(RecordBatch{std::move(r)}, LogIndex{next++}); }

  // Brokers 1..3 registered and unfenced; topic "t" with one partition on all three.
  Cluster() {
    for (int id = 1; id <= 3; ++id) {
      uint64_t index = next;
      REQUIRE(apply(RegisterBrokerRecord{BrokerId{id}, "inc", "h", 1, "h", 2, ""}));
      REQUIRE(apply(UnfenceBrokerRecord{BrokerId{id}, BrokerEpoch{int64_t(index)}}));
    }
    CreateTopicRecord t{"t", "id-t", {}, {}};
    t.partitions.push_back({{BrokerId{1}, BrokerId{2}, BrokerId{3}}});
    REQUIRE(apply(t));
  }
  const PartitionState& p() { return *state.find_partition("t", PartitionId{0}); }
  BrokerEpoch epoch(int id) { return state.find_broker(BrokerId{id})->epoch; }
  AlterPartitionRequest alter(std::vector<BrokerId> isr) {
    return {p().leader,       epoch(p().leader.value), "t",           PartitionId{0},
            p().leader_epoch, p().partition_epoch,     std::move(isr)};
  }
};

}  // namespace

TEST_CASE("two ISR changes planned on the same state: the second is refused at apply") {
  Cluster c;
  REQUIRE(c.p().leader == BrokerId{1});
  const PartitionState before = c.p();
  auto shrink = handle_alter_partition(c.state, c.alter({BrokerId{1}, BrokerId{2}}));
  auto other = handle_alter_partition(c.state, c.alter({BrokerId{1}}));
  REQUIRE(shrink.ok());
  REQUIRE(other.ok());

  REQUIRE(c.apply(shrink.value()));
  CHECK(c.p().isr == std::vector<BrokerId>{BrokerId{1}, BrokerId{2}});
  CHECK(c.p().partition_epoch.value == before.partition_epoch.value + 1);
  CHECK(c.p().leader_epoch == before.leader_epoch);

  const PartitionState after_first = c.p();
  Status second = c.apply(other.value());
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == ErrorCode::kStalePartitionEpoch);
  CHECK(c.p() == after_first);
  // And the controller's own check refuses a replay of the first request.
  auto replay = handle_alter_partition(c.state, AlterPartitionRequest{BrokerId{1},
                                                                      c.epoch(1),
                                                                      "t",
                                                                      PartitionId{0},
                                                                      before.leader_epoch,
                                                                      before.partition_epoch,
                                                                      {BrokerId{1}}});
  REQUIRE_FALSE(replay.ok());
  CHECK(replay.error().code == ErrorCode::kStalePartitionEpoch);
}

TEST_CASE("a broker fenced after the ISR change was planned cannot join the ISR (KIP-841)") {
  Cluster c;
  REQUIRE(c.apply(handle_alter_partition(c.state, c.alter({BrokerId{1}, BrokerId{2}})).value()));
  // Broker 3 (not in the ISR any more) is unfenced: the expansion is valid when planned.
  auto expand = handle_alter_partition(c.state, c.alter({BrokerId{1}, BrokerId{2}, BrokerId{3}}));
  REQUIRE(expand.ok());
  const PartitionState planned_on = c.p();
  // Its session expires before the expansion commits. It is in no ISR, so the
  // fence leaves the partition epoch alone: only the apply-time check stops it.
  REQUIRE(c.apply(FenceBrokerRecord{BrokerId{3}, c.epoch(3)}));
  REQUIRE(c.p() == planned_on);
  Status s = c.apply(expand.value());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kInvalidIsr);
  CHECK(c.p() == planned_on);
  CHECK(c.state.check_invariants());
  // Planned now, the controller refuses it up front with the same code.
  auto again = handle_alter_partition(c.state, c.alter({BrokerId{1}, BrokerId{2}, BrokerId{3}}));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kInvalidIsr);
}

TEST_CASE("a fenced broker that stayed in the ISR may stay in it") {
  Cluster c;
  // The last in-sync replica is kept when it is fenced (election.h), so a
  // change that keeps a fenced member is not an addition.
  MetadataState& s = c.state;
  REQUIRE(c.apply(handle_alter_partition(s, c.alter({BrokerId{1}, BrokerId{3}})).value()));
  PartitionChangeRecord keep{"t", PartitionId{0}, c.p().partition_epoch, std::nullopt,
                             std::vector<BrokerId>{BrokerId{1}, BrokerId{3}}};
  REQUIRE(c.apply(FenceBrokerRecord{BrokerId{3}, c.epoch(3)}));
  CHECK(c.apply(keep));
}

TEST_CASE("producer-id blocks planned on the same state: only the first applies") {
  Cluster c;
  auto first = plan_allocate_producer_ids(c.state, BrokerId{1}, c.epoch(1));
  auto racing = plan_allocate_producer_ids(c.state, BrokerId{2}, c.epoch(2));
  REQUIRE(first.ok());
  REQUIRE(racing.ok());
  CHECK(first.value().next_block_start == racing.value().next_block_start);
  REQUIRE(c.apply(first.value()));
  const ProducerId next = c.state.image().next_producer_id;
  CHECK(next.value == first.value().next_block_start.value + kProducerIdBlockSize);
  CHECK_FALSE(c.apply(racing.value()).ok());
  CHECK(c.state.image().next_producer_id == next);
  // Planned again it gets the next block, and the counter survives a snapshot.
  auto retry = plan_allocate_producer_ids(c.state, BrokerId{2}, c.epoch(2));
  REQUIRE(retry.ok());
  CHECK(retry.value().next_block_start == next);
  REQUIRE(c.apply(retry.value()));
  auto restored = MetadataState::from_snapshot(c.state.snapshot());
  REQUIRE(restored.ok());
  CHECK(restored.value().image().next_producer_id.value == next.value + kProducerIdBlockSize);
}
