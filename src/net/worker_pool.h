#pragma once
// A bounded, elastic pool of threads for blocking work (HTTP handlers that
// wait for a Raft commit, a leader, or a long poll). A thread starts only when
// a task arrives and no thread is free, never beyond max_threads, and leaves
// after idle_exit without work: an idle node holds no worker threads, a busy
// one at most max_threads. Tasks beyond that wait in a FIFO queue, bounded by
// what the caller submits (the HTTP server: one request per connection).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dmq::net {

class WorkerPool {
 public:
  // `name` names the threads (15 characters at most are kept).
  WorkerPool(std::string name, size_t max_threads, std::chrono::milliseconds idle_exit);
  ~WorkerPool();

  // Any thread. After stop() the task is dropped (destroyed unrun).
  void submit(std::function<void()> task);
  // Drops the queued tasks, waits for the running ones, joins every thread.
  void stop();

  size_t threads() const;
  size_t max_threads() const { return max_threads_; }

 private:
  void run();
  void reap_finished_locked();

  const std::string name_;
  const size_t max_threads_;
  const std::chrono::milliseconds idle_exit_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<std::function<void()>> tasks_;
  std::list<std::thread> threads_;
  std::vector<std::thread::id> finished_;  // left after idle_exit, to join
  size_t live_ = 0;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace dmq::net
