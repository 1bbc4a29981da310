#pragma once
// GroupCommitter: one per node, shared by every partition log. Callers ask
// "tell me when log L is durable up to offset X"; a dedicated flusher thread
// collects every request that arrived while it was busy, flushes each dirty
// log once (PartitionLog::flush: one fdatasync per dirty segment file, shared
// by all batches appended meanwhile), then completes each request its flush
// covered. This keeps fsyncs off the event loop and makes their number grow
// with time, not with the produce rate.
//
// Acknowledge a produce (or report a follower's log end offset) only from the
// callback: that is what makes acks=all survive a power loss of every replica.
//
// With fsync disabled (Kafka's default page-cache durability) no thread runs
// and requests complete at once, right after the write.
//
// Threads: request_durable() and stats() may be called from any thread,
// concurrently with the flusher and each other. Callbacks run through the
// executor given with the request (typically a post to the caller's event
// loop), or on the flusher thread when it is empty. stop() (and the
// destructor) must not be called from a callback running on the flusher.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/metrics.h"
#include "store/partition_log.h"

namespace dmq::store {

class GroupCommitter {
 public:
  struct Options {
    bool fsync_enabled = true;
    // When set, registers dmq_log_flush_seconds (histogram, one sample per
    // PartitionLog::flush), dmq_log_flush_failures_total,
    // dmq_group_commit_rounds_total, dmq_group_commit_requests_total and
    // dmq_group_commit_records_total: with the flush histogram's sum and
    // count they give what one commit covers (requests, records) and costs.
    metrics::Registry* metrics = nullptr;
  };
  // Completion status: ok; kStorageFailed (the flush failed: the log is
  // closed); kTruncated (the log was truncated below the offset before it
  // became durable); kShuttingDown (stop() ran first).
  using Callback = std::function<void(const LogStatus&)>;
  using Executor = std::function<void(std::function<void()>)>;

  explicit GroupCommitter(Options options);
  ~GroupCommitter();  // stop()
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Calls `done` once every offset below `end_offset` (exclusive; pass
  // AppendInfo::log_end_offset) of `log` is durable.
  void request_durable(std::shared_ptr<PartitionLog> log, Offset end_offset, Executor executor,
                       Callback done);

  // Serves the requests already queued, then stops the flusher. Later
  // requests complete with kShuttingDown. Idempotent.
  void stop();

  struct Stats {
    uint64_t requests = 0;     // request_durable calls
    uint64_t rounds = 0;       // flusher wake-ups that served at least one request
    uint64_t log_flushes = 0;  // PartitionLog::flush calls made by the flusher
    uint64_t records = 0;      // offsets that became durable through those flushes
  };
  Stats stats() const;

 private:
  struct Request {
    std::shared_ptr<PartitionLog> log;
    Offset end_offset;
    Executor executor;
    Callback done;
  };
  static void complete(Request& request, const LogStatus& status);
  void run();
  void serve(std::vector<Request>& batch);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Request> pending_;
  bool stopping_ = false;
  Stats stats_;
  metrics::Histogram* flush_seconds_ = nullptr;
  metrics::Counter* flush_failures_ = nullptr;
  metrics::Counter* rounds_total_ = nullptr;
  metrics::Counter* requests_total_ = nullptr;
  metrics::Counter* records_total_ = nullptr;
  std::thread flusher_;
};

}  // namespace dmq::store
