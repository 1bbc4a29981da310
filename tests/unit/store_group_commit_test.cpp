// GroupCommitter: shared fsyncs, callbacks only after the fsync, failures,
// page-cache mode and shutdown. Waits are bounded condition waits, never sleeps.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>

#include "common/log.h"
#include "store/group_commit.h"
#include "store_test_batches.h"

using namespace dmq::store;
using dmq::store::test::BatchSpec;
using dmq::store::test::make_batch;

namespace {

const bool kQuietLogs = [] {
  dmq::log::configure(dmq::log::Level::kError, dmq::log::Format::kText);
  return true;
}();

const std::string kDir = "/data/logs/gc-0";
constexpr auto kBound = std::chrono::seconds(20);  // a hang fails the test, a pass is fast

// A stand-in for an event loop: tasks posted from the flusher, run by the test thread.
class TaskQueue {
 public:
  GroupCommitter::Executor executor() {
    return [this](std::function<void()> task) {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
      cv_.notify_all();
    };
  }
  // Runs tasks until `count` have run in total; false on timeout.
  bool run_until(size_t count) {
    auto deadline = std::chrono::steady_clock::now() + kBound;
    std::unique_lock lock(mu_);
    while (ran_ < count) {
      if (!cv_.wait_until(lock, deadline, [&] { return !tasks_.empty(); })) return false;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      ++ran_;
    }
    return true;
  }
  size_t queued() {
    std::lock_guard lock(mu_);
    return tasks_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  size_t ran_ = 0;
};

// Holds every File::sync at its start until released.
class SyncGate {
 public:
  void install(FaultFileEnv& env) {
    env.set_sync_hook([this](const std::string&) {
      std::unique_lock lock(mu_);
      ++started_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    });
  }
  bool wait_started(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kBound, [&] { return started_ >= n; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0;
  bool open_ = false;
};

AppendInfo append_one(PartitionLog& log, BatchSpec spec = {}) {
  std::string b = make_batch(spec);
  auto r = log.append(std::span<char>(b.data(), b.size()), 0);
  REQUIRE(r.ok());
  return r.value();
}

}  // namespace

TEST_CASE("appends from two threads share fsyncs, and no callback runs before its fsync") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  auto log = PartitionLog::open(env, kDir, {}, 0).value();
  SyncGate gate;
  gate.install(env);
  TaskQueue loop;  // declared first: it must outlive the flusher thread
  GroupCommitter committer({.fsync_enabled = true});
  std::atomic<int> acked_before_durable{0};
  auto request = [&](Offset end) {
    committer.request_durable(log, end, loop.executor(), [&, end](const LogStatus& s) {
      REQUIRE(s.ok());
      if (log->durable_end_offset() < end) ++acked_before_durable;
    });
  };

  // The first request starts a flush that the gate holds inside its fsync.
  request(append_one(*log).log_end_offset);
  REQUIRE(gate.wait_started(1));

  constexpr int kPerThread = 100;
  auto producer = [&] {
    for (int i = 0; i < kPerThread; ++i) request(append_one(*log).log_end_offset);
  };
  std::thread a(producer);
  std::thread b(producer);
  a.join();
  b.join();
  CHECK(loop.queued() == 0);  // nothing is acknowledged while the fsync is in flight
  CHECK(log->durable_end_offset() == Offset(0));

  gate.open();
  REQUIRE(loop.run_until(1 + 2 * kPerThread));
  CHECK(acked_before_durable == 0);
  CHECK(log->durable_end_offset() == Offset(1 + 2 * kPerThread));
  // Round 1 served the first request; round 2 every request queued meanwhile.
  GroupCommitter::Stats stats = committer.stats();
  CHECK(stats.requests == 1 + 2 * kPerThread);
  CHECK(stats.rounds == 2);
  CHECK(stats.log_flushes == 2);
  CHECK(stats.records == 1 + 2 * kPerThread);  // one record per batch, each counted once
  CHECK(env.sync_count() < 10);                // log file per round, plus the epoch checkpoint once

  // Everything acknowledged survives a power loss.
  committer.stop();
  env.power_off();
  log.reset();
  log = PartitionLog::open(env, kDir, {}, 0).value();
  CHECK(log->log_end_offset() == Offset(1 + 2 * kPerThread));
}

TEST_CASE("a failed fsync fails the waiting callbacks and every later append") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  auto log = PartitionLog::open(env, kDir, {}, 0).value();
  dmq::metrics::Registry registry;
  TaskQueue loop;
  GroupCommitter committer({.metrics = &registry});
  env.fail_syncs(".log", 1);
  std::vector<LogError> results;
  // Append first: once the failed flush closes the log, appends fail too.
  std::vector<Offset> ends;
  for (int i = 0; i < 3; ++i) ends.push_back(append_one(*log).log_end_offset);
  for (Offset end : ends) {
    committer.request_durable(log, end, loop.executor(),
                              [&](const LogStatus& s) { results.push_back(s.code); });
  }
  REQUIRE(loop.run_until(3));
  for (LogError e : results) CHECK(e == LogError::kStorageFailed);
  std::string b = make_batch({});
  CHECK(log->append(std::span<char>(b.data(), b.size()), 0).error() == LogError::kStorageFailed);
  // A new request for the closed log fails too, rather than pretending.
  committer.request_durable(log, Offset(1), loop.executor(),
                            [&](const LogStatus& s) { results.push_back(s.code); });
  REQUIRE(loop.run_until(4));
  CHECK(results.back() == LogError::kStorageFailed);
  std::string text = registry.render();
  CHECK(text.find("dmq_log_flush_failures_total") != std::string::npos);
  CHECK(text.find("dmq_log_flush_failures_total 0") == std::string::npos);
}

TEST_CASE("page-cache mode completes at once without any fsync") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  auto log = PartitionLog::open(env, kDir, {}, 0).value();
  dmq::metrics::Registry registry;
  GroupCommitter committer({.fsync_enabled = false, .metrics = &registry});
  int done = 0;
  for (int i = 0; i < 5; ++i) {
    committer.request_durable(log, append_one(*log).log_end_offset, nullptr,
                              [&](const LogStatus& s) { done += s.ok(); });
  }
  CHECK(done == 5);
  CHECK(env.sync_count() == 0);
  CHECK(committer.stats().log_flushes == 0);
  CHECK(registry.render().find("dmq_group_commit_requests_total 5") != std::string::npos);
}

TEST_CASE("requests one past the log end, and after stop, complete with errors") {
  MemFileEnv env;
  auto log = PartitionLog::open(env, kDir, {}, 0).value();
  TaskQueue loop;
  GroupCommitter committer({});
  std::vector<LogError> results;
  auto record = [&](const LogStatus& s) { results.push_back(s.code); };
  Offset end = append_one(*log).log_end_offset;
  committer.request_durable(log, end, loop.executor(), record);
  committer.request_durable(log, Offset(end.value + 5), loop.executor(), record);
  REQUIRE(loop.run_until(2));
  CHECK(results[0] == LogError::kOk);
  CHECK(results[1] == LogError::kTruncated);
  committer.stop();
  committer.request_durable(log, end, nullptr, record);
  REQUIRE(results.size() == 3);
  CHECK(results[2] == LogError::kShuttingDown);
}
