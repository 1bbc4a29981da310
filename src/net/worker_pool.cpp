#include "net/worker_pool.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace dmq::net {

WorkerPool::WorkerPool(std::string name, size_t max_threads, std::chrono::milliseconds idle_exit)
    : name_(std::move(name)),
      max_threads_(std::max<size_t>(1, max_threads)),
      idle_exit_(idle_exit) {}

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::submit(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  reap_finished_locked();
  tasks_.push_back(std::move(task));
  // A free thread takes it; otherwise grow while under the bound.
  if (idle_ >= tasks_.size()) {
    work_.notify_one();
    return;
  }
  if (live_ < max_threads_) {
    ++live_;
    threads_.emplace_back([this] { run(); });
  }
}

void WorkerPool::reap_finished_locked() {
  for (auto id : finished_) {
    auto it = std::find_if(threads_.begin(), threads_.end(),
                           [id](const std::thread& t) { return t.get_id() == id; });
    if (it == threads_.end()) continue;
    it->join();  // it has left run(): the join is immediate
    threads_.erase(it);
  }
  finished_.clear();
}

void WorkerPool::run() {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (tasks_.empty()) {
      ++idle_;
      bool woken =
          work_.wait_for(lock, idle_exit_, [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (!woken) break;  // idle for idle_exit: leave
      continue;
    }
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // destroy what it captured outside the lock
    lock.lock();
  }
  --live_;
  if (!stopping_) finished_.push_back(std::this_thread::get_id());
}

void WorkerPool::stop() {
  std::list<std::thread> threads;
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped.swap(tasks_);
    threads.swap(threads_);
    finished_.clear();
  }
  work_.notify_all();
  for (auto& t : threads) t.join();
}

size_t WorkerPool::threads() const {
  std::lock_guard lock(mutex_);
  return live_;
}

}  // namespace dmq::net
