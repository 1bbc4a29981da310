#pragma once
// PeerWorkers: a small pool of HTTP client threads for blocking node-to-node
// calls made on behalf of the event loop (share groups' remote reads and
// appends, the transaction coordinator's remote markers and verifications),
// with the way back: results are posted to the loop, never run on a worker.
//
//   PeerWorkers workers(io, 8);
//   workers.submit([&] { auto r = call_peer(); workers.post_to_loop([r] { use(r); }); });
//
// Threads: submit() and post_to_loop() from any thread; jobs on the
// workers; posted functions on the loop, and never after the pool is gone.
// Destroying it joins the workers; jobs not started are dropped.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

namespace asio {
class io_context;
}

namespace dmq::rest {

class PeerWorkers {
 public:
  PeerWorkers(asio::io_context& io, int threads);
  ~PeerWorkers();
  PeerWorkers(const PeerWorkers&) = delete;
  PeerWorkers& operator=(const PeerWorkers&) = delete;

  void submit(std::function<void()> job);
  void post_to_loop(std::function<void()> fn);

  // One keep-alive client per peer per worker thread (short connect, 10 s read).
  static httplib::Client& client_for(const std::string& host, uint16_t port);

 private:
  asio::io_context& io_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace dmq::rest
