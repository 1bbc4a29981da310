// The group commit of share-partition state (src/group/share_write_queue.h):
// one append in flight, everything that arrives meanwhile merged into the
// next, and no waiter answered by an append that started before its change.
#include <doctest/doctest.h>

#include <string>

#include "group/share_write_queue.h"

using Queue = dmq::group::ShareWriteQueue<std::string, int>;

TEST_CASE("share write queue: the first change starts an append at once") {
  Queue q;
  CHECK(!q.maybe_start());  // nothing waits
  q.add({"a"}, 1);
  auto batch = q.maybe_start();
  REQUIRE(batch);
  CHECK(batch->keys == std::set<std::string>{"a"});
  CHECK(batch->waiters == std::vector<int>{1});
  CHECK(q.in_flight());
}

TEST_CASE("share write queue: changes during an append wait and go out together, each key once") {
  Queue q;
  q.add({"a"}, 1);
  auto first = q.maybe_start();
  REQUIRE(first);
  q.add({"a", "b"}, 2);
  q.add({"b"}, 3);
  q.add({"c"}, 4);
  // One append in flight: the later changes are not in its snapshot, so they
  // must not ride on it.
  CHECK(!q.maybe_start());
  CHECK(q.waiting() == 3);
  q.finish();
  auto second = q.maybe_start();
  REQUIRE(second);
  CHECK(second->keys == std::set<std::string>{"a", "b", "c"});
  CHECK(second->waiters == std::vector<int>{2, 3, 4});
  CHECK(first->waiters == std::vector<int>{1});
  q.finish();
  CHECK(!q.maybe_start());
  CHECK(q.appends() == 2);
  CHECK(q.changes() == 4);
}

TEST_CASE("share write queue: a change made after a batch started waits for the next one") {
  Queue q;
  q.add({"a"}, 1);
  q.add({"a"}, 2);
  auto batch = q.maybe_start();
  REQUIRE(batch);
  CHECK(batch->waiters == std::vector<int>{1, 2});
  q.add({"a"}, 3);  // made in memory after the snapshot of `batch` was taken
  CHECK(!q.maybe_start());
  q.finish();
  auto next = q.maybe_start();
  REQUIRE(next);
  CHECK(next->waiters == std::vector<int>{3});
}

TEST_CASE("share write queue: take_pending hands back what never went out") {
  Queue q;
  q.add({"a"}, 1);
  REQUIRE(q.maybe_start());
  q.add({"b"}, 2);
  q.add({"c"}, 3);
  auto dropped = q.take_pending();
  CHECK(dropped.waiters == std::vector<int>{2, 3});
  CHECK(q.waiting() == 0);
  q.finish();
  CHECK(!q.maybe_start());
}
