#include "store/group_commit.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace dmq::store {

GroupCommitter::GroupCommitter(Options options) : options_(options) {
  if (options_.metrics) {
    metrics::Registry& m = *options_.metrics;
    flush_seconds_ = &m.histogram("dmq_log_flush_seconds", "Time to make one partition log durable",
                                  metrics::latency_buckets_seconds());
    flush_failures_ = &m.counter("dmq_log_flush_failures_total",
                                 "Partition log flushes that failed (the log was closed)");
    rounds_total_ = &m.counter("dmq_group_commit_rounds_total", "Group commit flusher rounds");
    requests_total_ = &m.counter("dmq_group_commit_requests_total",
                                 "Durability requests made to the group committer");
    records_total_ = &m.counter("dmq_group_commit_records_total",
                                "Offsets made durable by group commit flushes");
  }
  if (options_.fsync_enabled) flusher_ = std::thread([this] { run(); });
}

GroupCommitter::~GroupCommitter() {
  stop();
}

void GroupCommitter::complete(Request& request, const LogStatus& status) {
  if (request.executor) {
    request.executor([done = std::move(request.done), status] { done(status); });
  } else {
    request.done(status);
  }
}

void GroupCommitter::request_durable(std::shared_ptr<PartitionLog> log, Offset end_offset,
                                     Executor executor, Callback done) {
  DMQ_ASSERT(log != nullptr);
  DMQ_ASSERT(done != nullptr);
  Request request{std::move(log), end_offset, std::move(executor), std::move(done)};
  {
    std::lock_guard lock(mu_);
    ++stats_.requests;
    if (requests_total_) requests_total_->inc();
    if (options_.fsync_enabled && !stopping_) {
      pending_.push_back(std::move(request));
      wake_.notify_one();
      return;
    }
  }
  if (!options_.fsync_enabled) {
    // Page-cache mode: the write itself is the acknowledgement point.
    complete(request, {});
    return;
  }
  complete(request, {LogError::kShuttingDown, "group committer stopped"});
}

void GroupCommitter::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_one();
  }
  if (flusher_.joinable()) flusher_.join();
}

GroupCommitter::Stats GroupCommitter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void GroupCommitter::run() {
  std::vector<Request> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and nothing left to serve
      batch.swap(pending_);
      ++stats_.rounds;
      if (rounds_total_) rounds_total_->inc();
    }
    serve(batch);
    batch.clear();
  }
}

void GroupCommitter::serve(std::vector<Request>& batch) {
  // One flush per log, however many requests name it: this is the group in
  // group commit. Requests were queued after their appends, so the flush's
  // snapshot of the log end covers them unless the log was truncated.
  std::map<PartitionLog*, LogResult<Offset>> flushed;
  uint64_t records = 0;
  for (Request& r : batch) {
    if (flushed.count(r.log.get())) continue;
    const Offset before = r.log->durable_end_offset();
    auto start = std::chrono::steady_clock::now();  // measurement only, no decisions
    LogResult<Offset> result = r.log->flush();
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (flush_seconds_) flush_seconds_->observe(took.count());
    if (flush_failures_ && !result.ok()) flush_failures_->inc();
    if (result.ok() && result.value() > before)
      records += static_cast<uint64_t>(result.value().value - before.value);
    flushed.emplace(r.log.get(), std::move(result));
  }
  if (records_total_) records_total_->inc(static_cast<double>(records));
  {
    // Before any callback: a caller woken by one sees the round counted.
    std::lock_guard lock(mu_);
    stats_.log_flushes += flushed.size();
    stats_.records += records;
  }
  for (Request& r : batch) {
    const LogResult<Offset>& result = flushed.at(r.log.get());
    if (!result.ok()) {
      complete(r, result.status());
    } else if (r.end_offset <= result.value()) {
      complete(r, {});
    } else {
      complete(r, {LogError::kTruncated, "offset " + std::to_string(r.end_offset.value) +
                                             " is not in the log after flush"});
    }
  }
}

}  // namespace dmq::store
