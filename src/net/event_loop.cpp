#include "net/event_loop.h"

#include "common/log.h"

namespace dmq::net {

EventLoop::EventLoop()
    : work_(asio::make_work_guard(context_)), signals_(context_, SIGINT, SIGTERM) {
  signals_.async_wait([this](const asio::error_code& ec, int signal_number) {
    if (ec) return;
    LOG_INFO("node") << "received " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
                     << ", shutting down";
    begin_shutdown();
  });
}

void EventLoop::run() {
  context_.run();
  if (stopper_.joinable()) stopper_.join();
}

void EventLoop::on_shutdown_blocking(std::function<void()> stop) {
  blocking_stops_.push_back(std::move(stop));
}

void EventLoop::request_shutdown() {
  asio::post(context_, [this] { begin_shutdown(); });
}

void EventLoop::on_shutdown(std::function<void()> hook) {
  shutdown_hooks_.push_back(std::move(hook));
}

void EventLoop::before_shutdown(std::function<void(std::function<void()>)> step) {
  before_shutdown_ = std::move(step);
}

void EventLoop::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  signals_.cancel();
  if (before_shutdown_) {
    before_shutdown_([this] { run_shutdown_hooks(); });
  } else {
    run_shutdown_hooks();
  }
}

void EventLoop::run_shutdown_hooks() {
  for (auto it = shutdown_hooks_.rbegin(); it != shutdown_hooks_.rend(); ++it) (*it)();
  stopper_ = std::thread([this] {
    for (auto it = blocking_stops_.rbegin(); it != blocking_stops_.rend(); ++it) (*it)();
    // Without the guard, run() returns once the queued and in-flight handlers finish.
    asio::post(context_, [this] { work_.reset(); });
  });
}

}  // namespace dmq::net
