#include "rest/peer_workers.h"

#include <asio.hpp>
#include <map>

#include "net/cluster_http.h"

namespace dmq::rest {

PeerWorkers::PeerWorkers(asio::io_context& io, int threads) : io_(io) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
          if (stopping_) return;
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        job();
      }
    });
  }
}

PeerWorkers::~PeerWorkers() {
  *alive_ = false;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void PeerWorkers::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void PeerWorkers::post_to_loop(std::function<void()> fn) {
  std::weak_ptr<bool> alive = alive_;
  asio::post(io_, [alive, fn = std::move(fn)] {
    if (!alive.expired()) fn();
  });
}

httplib::Client& PeerWorkers::client_for(const std::string& host, uint16_t port) {
  thread_local std::map<std::pair<std::string, uint16_t>, std::unique_ptr<net::PeerClient>> clients;
  auto& c = clients[{host, port}];
  if (!c) {
    c = std::make_unique<net::PeerClient>(host, port);
    c->http().set_connection_timeout(1, 0);
    c->http().set_read_timeout(10, 0);
    c->http().set_keep_alive(true);
  }
  return c->http();
}

}  // namespace dmq::rest
