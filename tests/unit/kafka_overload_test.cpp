// The pure pieces of the Kafka listener's overload protection:
// max.connections(.per.ip) bookkeeping and the queued.max.request.bytes budget.
#include <doctest/doctest.h>

#include <asio.hpp>

#include "kafka/server/connection_limits.h"
#include "kafka/server/request_budget.h"

using dmq::kafka::ConnectionLimits;
using dmq::kafka::RequestBudget;
using Verdict = ConnectionLimits::Verdict;

TEST_CASE("max.connections.per.ip, its overrides and max.connections") {
  ConnectionLimits limits(4, 2, {{"10.0.0.9", 0}, {"10.0.0.8", 3}});
  CHECK(limits.admit("10.0.0.1") == Verdict::kAdmitted);
  CHECK(limits.admit("10.0.0.1") == Verdict::kAdmitted);
  CHECK(limits.admit("10.0.0.1") == Verdict::kOverPerIp);
  CHECK(limits.admit("10.0.0.9") == Verdict::kOverPerIp);  // overridden to 0
  CHECK(limits.admit("10.0.0.8") == Verdict::kAdmitted);
  CHECK(limits.admit("10.0.0.8") == Verdict::kAdmitted);
  CHECK(limits.total() == 4);
  CHECK(limits.admit("10.0.0.8") == Verdict::kOverTotal);  // its own limit is 3, the total 4
  limits.release("10.0.0.1");
  CHECK(limits.admit("10.0.0.8") == Verdict::kAdmitted);
  CHECK(limits.limit_for("10.0.0.8") == 3);
  CHECK(limits.limit_for("10.0.0.2") == 2);
}

TEST_CASE("queued.max.request.bytes: large requests stop below the small lane, waiters resume") {
  asio::io_context io;
  const uint64_t limit = 8 * 1024 * 1024;  // small requests keep the top 1 MiB
  RequestBudget budget(io, static_cast<int64_t>(limit));
  const uint64_t big = 3 * 1024 * 1024;
  CHECK(budget.try_reserve(big));
  CHECK(budget.try_reserve(big));
  CHECK(budget.try_reserve(big));  // granted while under the ceiling: overshoot by one frame
  CHECK(budget.used() == 9 * 1024 * 1024);
  CHECK_FALSE(budget.try_reserve(big));
  CHECK_FALSE(budget.try_reserve(100));
  int resumed_big = 0;
  int resumed_small = 0;
  budget.wait(big, [&] { ++resumed_big; });
  budget.wait(100, [&] { ++resumed_small; });
  io.poll();
  CHECK(resumed_big == 0);
  CHECK(resumed_small == 0);
  budget.release(big);  // 6 MiB used: room for small requests only (ceiling 7 MiB for large)
  budget.release(big);  // 3 MiB: room for both
  io.restart();
  io.poll();
  CHECK(resumed_big == 1);
  CHECK(resumed_small == 1);
  budget.release(big);
  CHECK(budget.used() == 0);
  CHECK(budget.peak() == 9 * 1024 * 1024);
}

TEST_CASE("queued.max.request.bytes: the small lane stays open while large requests wait") {
  asio::io_context io;
  RequestBudget budget(io, 8 * 1024 * 1024);
  CHECK(budget.try_reserve(7 * 1024 * 1024));
  CHECK_FALSE(budget.try_reserve(RequestBudget::kSmallRequestBytes + 1));
  CHECK(budget.try_reserve(RequestBudget::kSmallRequestBytes));
}

TEST_CASE("queued.max.request.bytes -1: no bound") {
  asio::io_context io;
  RequestBudget budget(io, -1);
  for (int i = 0; i < 100; ++i) CHECK(budget.try_reserve(uint64_t{1} << 30));
}
