// The share-partition state machine (KIP-932 record states, delivery counts,
// locks, backoff, dead-letter intents) and its __share_group_state codec.
#include <doctest/doctest.h>

#include "cluster/validation.h"
#include "group/share_partition.h"
#include "group/share_records.h"

namespace dmq::group {
namespace {

ShareConfig config(int32_t limit = 3, bool dlq = false) {
  ShareConfig c;
  c.delivery_count_limit = limit;
  c.lock_duration_ms = 1000;
  c.partition_limit = 10;
  c.dead_letter = dlq;
  return c;
}

SharePartition make(ShareConfig c = config(), int64_t start = 0) {
  SharePartition sp(c, [] { return 0.5; });
  sp.initialize(start);
  return sp;
}

std::vector<int64_t> range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t o = from; o < to; ++o) v.push_back(o);
  return v;
}

}  // namespace

TEST_CASE("share: new records are acquired once, locked to the member, up to max") {
  auto sp = make();
  CHECK(sp.first_wanted(0, 5) == 0);
  auto got = sp.acquire(range(0, 5), 5, "a", 0, 3, nullptr);
  CHECK(got == std::vector<int64_t>{0, 1, 2});
  CHECK(sp.in_flight() == 3);
  // A second member gets the rest, never the locked ones.
  CHECK(sp.first_wanted(0, 5) == 3);
  CHECK(sp.acquire(range(0, 5), 5, "b", 0, 10, nullptr) == std::vector<int64_t>{3, 4});
  CHECK(sp.find(0)->member_id == "a");
  CHECK(sp.find(0)->delivery_count == 1);
  CHECK(sp.first_wanted(0, 5) == -1);  // all locked, nothing new below the high watermark
}

TEST_CASE("share: nothing at or above the high watermark is delivered") {
  auto sp = make();
  CHECK(sp.acquire(range(0, 5), 2, "a", 0, 10, nullptr) == std::vector<int64_t>{0, 1});
  CHECK(sp.snapshot().next_offset == 2);
}

TEST_CASE("share: accept moves the start offset past the done prefix") {
  auto sp = make();
  sp.acquire(range(0, 3), 3, "a", 0, 10, nullptr);
  CHECK(sp.check_ack(1, "a") == AckError::kNone);
  sp.ack(1, AckType::kAccept, "", 0, nullptr);
  CHECK(sp.snapshot().start_offset == 0);  // 0 still in flight
  sp.ack(0, AckType::kAccept, "", 0, nullptr);
  CHECK(sp.snapshot().start_offset == 2);
  CHECK(sp.snapshot().records.size() == 1);
  CHECK(sp.check_ack(0, "a") == AckError::kNotInFlight);  // done already
  CHECK(sp.check_ack(1, "a") == AckError::kNotInFlight);
}

TEST_CASE("share: acks are checked against delivery, lock state and holder") {
  auto sp = make();
  CHECK(sp.check_ack(0, "a") == AckError::kNotDelivered);
  sp.acquire(range(0, 2), 2, "a", 0, 10, nullptr);
  CHECK(sp.check_ack(5, "a") == AckError::kNotDelivered);
  CHECK(sp.check_ack(0, "b") == AckError::kWrongMember);
  sp.ack(0, AckType::kRelease, "", 0, nullptr);
  CHECK(sp.check_ack(0, "a") == AckError::kNotInFlight);
}

TEST_CASE("share: release makes the record available again with its delivery count") {
  auto sp = make();
  sp.acquire(range(0, 1), 1, "a", 0, 10, nullptr);
  sp.ack(0, AckType::kRelease, "busy", 10, nullptr);
  CHECK(sp.find(0)->state == RecordState::kAvailable);
  ShareEvents ev;
  CHECK(sp.acquire(range(0, 1), 1, "b", 20, 10, &ev) == std::vector<int64_t>{0});
  CHECK(sp.find(0)->delivery_count == 2);
  CHECK(ev.redeliveries == 1);
}

TEST_CASE("share: an expired lock is a failed delivery; at the limit the record is archived") {
  auto sp = make(config(2));
  sp.acquire(range(0, 1), 1, "a", 0, 10, nullptr);
  ShareEvents ev;
  sp.expire_locks(999, &ev);
  CHECK(ev.lock_expiries == 0);
  sp.expire_locks(1000, &ev);
  CHECK(ev.lock_expiries == 1);
  CHECK(sp.find(0)->state == RecordState::kAvailable);
  CHECK(sp.check_ack(0, "a") == AckError::kNotInFlight);  // the old holder lost it
  sp.acquire(range(0, 1), 1, "b", 1000, 10, nullptr);
  sp.expire_locks(2000, &ev);
  CHECK(ev.failed == 1);
  CHECK(sp.snapshot().start_offset == 1);  // archived: out of the window
}

TEST_CASE("share: reject with a dead-letter topic keeps an intent with a fixed sequence") {
  auto sp = make(config(5, true));
  sp.acquire(range(0, 3), 3, "a", 0, 10, nullptr);
  sp.ack(1, AckType::kReject, "bad payload", 0, nullptr);
  sp.ack(0, AckType::kReject, "", 0, nullptr);
  sp.ack(2, AckType::kAccept, "", 0, nullptr);
  CHECK(sp.find(1)->state == RecordState::kDeadLettering);
  CHECK(sp.find(1)->last_error == "bad payload");
  CHECK(sp.find(1)->dead_letter_sequence == 0);
  CHECK(sp.find(0)->dead_letter_sequence == 1);
  CHECK(sp.find(0)->last_error == "rejected");
  CHECK(sp.dead_letters_pending() == std::vector<int64_t>{1, 0});  // by sequence
  CHECK(sp.snapshot().start_offset == 0);                          // intents hold the window
  CHECK(sp.first_wanted(0, 3) == -1);                              // and are never delivered again
  sp.dead_letter_done(1);
  sp.dead_letter_done(1);  // a repeated completion changes nothing
  CHECK(sp.snapshot().dead_lettered == 1);
  sp.dead_letter_done(0);
  CHECK(sp.snapshot().start_offset == 3);
  CHECK(sp.snapshot().dead_lettered == 2);
  CHECK(sp.snapshot().next_sequence == 2);
}

TEST_CASE("share: release at the delivery limit fails the record") {
  auto sp = make(config(1, true));
  sp.acquire(range(0, 1), 1, "a", 0, 10, nullptr);
  sp.ack(0, AckType::kRelease, "", 0, nullptr);
  CHECK(sp.find(0)->state == RecordState::kDeadLettering);
}

TEST_CASE("share: the window limits the records in flight") {
  auto c = config();
  c.partition_limit = 3;
  auto sp = make(c);
  CHECK(sp.acquire(range(0, 10), 10, "a", 0, 10, nullptr).size() == 3);
  CHECK(sp.first_wanted(0, 10) == -1);
  sp.ack(0, AckType::kAccept, "", 0, nullptr);
  CHECK(sp.first_wanted(0, 10) == 3);
  CHECK(sp.acquire(range(3, 10), 10, "a", 0, 10, nullptr) == std::vector<int64_t>{3});
}

TEST_CASE("share: gaps in the log are archived, records deleted by retention too") {
  auto sp = make();
  CHECK(sp.acquire({0, 3}, 4, "a", 0, 10, nullptr) == std::vector<int64_t>{0, 3});
  CHECK(sp.find(1)->state == RecordState::kArchived);
  sp.advance_to_log_start(6);
  CHECK(sp.snapshot().start_offset == 6);
  CHECK(sp.snapshot().next_offset == 6);
  CHECK(sp.snapshot().records.empty());
}

TEST_CASE("share: backoff grows exponentially to the cap, jittered by the injected value") {
  auto c = config();
  c.retry_backoff_ms = 100;
  c.retry_backoff_max_ms = 1000;
  double u = 1.0;
  SharePartition sp(c, [&u] { return u; });
  CHECK(sp.backoff_ms(1) == 100);
  CHECK(sp.backoff_ms(2) == 200);
  CHECK(sp.backoff_ms(4) == 800);
  CHECK(sp.backoff_ms(5) == 1000);
  CHECK(sp.backoff_ms(30) == 1000);
  u = 0.0;
  CHECK(sp.backoff_ms(2) == 100);  // equal jitter: [d/2, d]
  sp.initialize(0);
  sp.acquire(range(0, 1), 1, "a", 0, 10, nullptr);
  sp.ack(0, AckType::kRelease, "", 1000, nullptr);
  CHECK(sp.first_wanted(1049, 1) == -1);  // backing off
  CHECK(sp.first_wanted(1050, 1) == 0);
}

TEST_CASE("share: a parked fetch learns when the first backoff ends") {
  auto c = config();
  c.retry_backoff_ms = 100;
  c.retry_backoff_max_ms = 1000;
  SharePartition sp(c, [] { return 1.0; });
  sp.initialize(0);
  CHECK(sp.next_available_at(0) == -1);  // nothing backs off
  sp.acquire(range(0, 2), 2, "a", 0, 10, nullptr);
  sp.ack(0, AckType::kRelease, "", 1000, nullptr);  // back at 1100
  CHECK(sp.next_available_at(1000) == 1100);
  sp.ack(1, AckType::kRelease, "", 1050, nullptr);  // back at 1150
  CHECK(sp.next_available_at(1000) == 1100);
  CHECK(sp.next_available_at(1100) == 1150);  // the first is deliverable now
  CHECK(sp.next_available_at(1150) == -1);
}

TEST_CASE("share: snapshots round-trip through the state record codec") {
  auto sp = make(config(5, true), 7);
  sp.acquire(range(7, 12), 12, "member-1", 100, 10, nullptr);
  sp.ack(8, AckType::kReject, "boom", 100, nullptr);
  sp.ack(9, AckType::kRelease, "", 100, nullptr);
  sp.set_producer(42, 0);
  TopicPartition tp{"orders", 2};
  auto key = encode_share_key("g", tp);
  auto value = encode_share_value(sp.snapshot());
  auto decoded = decode_share_record(key, value);
  REQUIRE(decoded);
  CHECK(decoded->group_id == "g");
  CHECK(decoded->tp == tp);
  REQUIRE(decoded->snapshot);
  CHECK(*decoded->snapshot == sp.snapshot());
  auto tomb = decode_share_record(key, std::nullopt);
  REQUIRE(tomb);
  CHECK(!tomb->snapshot);
}

TEST_CASE("share: malformed state records are refused, never trusted") {
  auto sp = make();
  sp.acquire(range(0, 3), 3, "a", 0, 10, nullptr);
  auto key = encode_share_key("g", {"t", 0});
  auto value = encode_share_value(sp.snapshot());
  CHECK(!decode_share_record(std::nullopt, value));
  CHECK(!decode_share_record(key.substr(0, key.size() - 1), value));
  for (size_t n = 0; n < value.size(); ++n) CHECK(!decode_share_record(key, value.substr(0, n)));
  std::string bad_state = value;
  bad_state[2 + 8 * 4 + 2 + 4 + 4 + 8] = 9;  // the first record's state byte
  CHECK(!decode_share_record(key, bad_state));
  CHECK(!decode_share_record(key, value + "x"));
}

TEST_CASE("share: topic configs are validated when the topic is created") {
  using cluster::validate_share_configs;
  CHECK(validate_share_configs("t", {{"share.delivery.count.limit", "3"},
                                     {"share.dead.letter.topic", "t-dlq"},
                                     {"share.auto.offset.reset", "earliest"},
                                     {"retention.ms", "x"}}));
  CHECK(!validate_share_configs("t", {{"share.delivery.count.limit", "0"}}));
  CHECK(!validate_share_configs("t", {{"share.record.lock.duration.ms", "12abc"}}));
  CHECK(!validate_share_configs("t", {{"share.auto.offset.reset", "middle"}}));
  CHECK(!validate_share_configs("t", {{"share.dead.letter.topic", "t"}}));
  CHECK(!validate_share_configs("t", {{"share.dead.letter.topic", "no/slash"}}));
  CHECK(!validate_share_configs("t", {{"share.delivery.count.limt", "3"}}));  // typo
  auto e = validate_share_configs(
      "t", {{"share.retry.backoff.ms", "500"}, {"share.retry.backoff.max.ms", "100"}});
  REQUIRE(!e);
  CHECK(e.error().message.find("share.retry.backoff.max.ms") != std::string::npos);
}

}  // namespace dmq::group
