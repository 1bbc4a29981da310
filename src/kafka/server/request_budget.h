#pragma once
// RequestBudget: Kafka's queued.max.request.bytes, the bytes of requests read
// from every socket of the broker but not yet answered. A connection reserves
// a frame's size once its size prefix is read and before the body is
// allocated; the reservation ends when the request is answered (the handler
// produced its response) or the connection closes. While the budget is spent
// connections stop reading (their bytes stay in the kernel, TCP pushes back
// on the clients) and are woken, oldest first, as answers release bytes.
//
// As Kafka's memory pool, a reservation is granted whenever anything is left
// (used < limit), even if the frame is bigger than what is left: a single
// request up to socket.request.max.bytes is never refused for good, and the
// overshoot is at most one frame. A limit <= 0 is Kafka's -1: no bound.
//
// Small requests (at most kSmallRequestBytes: metadata, heartbeats, fetches,
// commits) have a lane of their own: large ones (produce) may fill the budget
// only up to limit - limit/8. A flood of large produce requests then cannot
// starve a consumer's heartbeat or a client's Metadata, and the total stays
// under the same bound.
//
// Ownership: the kafka::Service; shared by every listener. Threads: the event
// loop only (waiters are resumed through asio::post, never re-entrantly).

#include <asio.hpp>
#include <cstdint>
#include <deque>
#include <functional>

namespace dmq::kafka {

class RequestBudget {
 public:
  RequestBudget(asio::io_context& io, int64_t limit_bytes) : io_(io), limit_(limit_bytes) {}

  // Reserves `bytes` and returns true when the budget is not spent; false
  // otherwise (nothing reserved: call wait()).
  bool try_reserve(uint64_t bytes);
  static constexpr uint64_t kSmallRequestBytes = 64 * 1024;
  // Ends a reservation of `bytes` and resumes waiters while budget is left.
  void release(uint64_t bytes);
  // `resume` runs (posted) once a reservation of `bytes` would be granted.
  // A waiter that finds it spent again (another took it first) waits again.
  void wait(uint64_t bytes, std::function<void()> resume);

  uint64_t used() const { return used_; }
  // The most bytes reserved at once since start (for tests and metrics).
  uint64_t peak() const { return peak_; }
  bool bounded() const { return limit_ > 0; }

 private:
  void maybe_resume();
  // What a reservation of `bytes` may fill the budget up to.
  uint64_t ceiling_for(uint64_t bytes) const;

  asio::io_context& io_;
  const int64_t limit_;
  uint64_t used_ = 0;
  uint64_t peak_ = 0;
  struct Waiter {
    uint64_t bytes;
    std::function<void()> resume;
  };
  std::deque<Waiter> waiters_;
};

}  // namespace dmq::kafka
