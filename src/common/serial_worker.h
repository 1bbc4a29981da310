#pragma once
// A thread that runs posted jobs one at a time, in order. Used for work that
// must stay off the event loop, such as fsync-bearing LMDB commits.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace dmq {

class SerialWorker {
 public:
  explicit SerialWorker(std::string name);
  ~SerialWorker();  // runs the jobs already posted, then joins
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  void post(std::function<void()> job);
  void stop();

 private:
  void run();
  std::string name_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dmq
