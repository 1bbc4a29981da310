#pragma once
// The process's single asio event loop. Components post work to it; SIGINT and
// SIGTERM start an orderly shutdown: shutdown hooks run on the loop thread in
// reverse order of registration (listeners close first), then the loop drains
// the handlers already queued and run() returns.

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <thread>
#include <vector>

namespace dmq::net {

class EventLoop {
 public:
  EventLoop();
  asio::io_context& context() { return context_; }

  // Runs on the calling thread until shutdown completes.
  void run();
  // Starts the shutdown from any thread (what the signal handler does).
  void request_shutdown();
  // Registers a hook run on the loop thread when shutdown starts.
  void on_shutdown(std::function<void()> hook);
  // Registers a stop that blocks (joins threads, waits for HTTP handlers). It
  // runs on a helper thread after the hooks, in reverse order of
  // registration, while the loop keeps serving, so whatever it waits for
  // can still complete on the loop; the loop is released when all return.
  void on_shutdown_blocking(std::function<void()> stop);
  // Work that must finish before the hooks run while the loop keeps serving
  // (a broker's controlled shutdown): it gets a continuation to call, once,
  // on the loop thread.
  void before_shutdown(std::function<void(std::function<void()> proceed)> step);
  bool shutting_down() const { return shutting_down_; }

  void post(std::function<void()> fn) { asio::post(context_, std::move(fn)); }

  // For threads other than the loop's: runs fn on the loop and waits up to
  // `timeout` for its result; nullopt if it did not finish in time. fn may
  // run after the timeout, so it must own what it uses: capture by value or
  // objects that outlive the loop, never the caller's locals by reference.
  template <typename Fn>
  auto call(Fn fn, std::chrono::milliseconds timeout) -> std::optional<decltype(fn())> {
    using Result = decltype(fn());
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(fn));
    auto future = task->get_future();
    asio::post(context_, [task] { (*task)(); });
    if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return future.get();
  }

  // The same for work that answers later: `start(done)` runs on the loop and
  // calls done(value) once, on the loop, maybe after other events; the caller
  // waits up to `timeout` for that value. The same ownership rule applies.
  template <typename T, typename Start>
  std::optional<T> call_async(Start start, std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    asio::post(context_, [promise, start = std::move(start)]() mutable {
      start([promise](T value) { promise->set_value(std::move(value)); });
    });
    if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return future.get();
  }

 private:
  void begin_shutdown();
  void run_shutdown_hooks();

  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::signal_set signals_;
  std::vector<std::function<void()>> shutdown_hooks_;
  std::vector<std::function<void()>> blocking_stops_;
  std::thread stopper_;
  std::function<void(std::function<void()>)> before_shutdown_;
  bool shutting_down_ = false;
};

}  // namespace dmq::net
