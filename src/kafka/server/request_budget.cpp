#include "kafka/server/request_budget.h"

#include "common/assert.h"
#include "kafka/server/server_metrics.h"

namespace dmq::kafka {

uint64_t RequestBudget::ceiling_for(uint64_t bytes) const {
  const auto limit = static_cast<uint64_t>(limit_);
  return bytes <= kSmallRequestBytes ? limit : limit - limit / 8;
}

bool RequestBudget::try_reserve(uint64_t bytes) {
  if (bounded() && used_ >= ceiling_for(bytes)) return false;
  used_ += bytes;
  peak_ = std::max(peak_, used_);
  auto& m = server_metrics();
  m.queued_request_bytes.set(static_cast<double>(used_));
  m.queued_request_bytes_peak.set(static_cast<double>(peak_));
  return true;
}

void RequestBudget::release(uint64_t bytes) {
  DMQ_ASSERT(bytes <= used_);
  used_ -= bytes;
  server_metrics().queued_request_bytes.set(static_cast<double>(used_));
  maybe_resume();
}

void RequestBudget::wait(uint64_t bytes, std::function<void()> resume) {
  waiters_.push_back(Waiter{bytes, std::move(resume)});
  server_metrics().reading_paused_for_queued_bytes.inc();
  maybe_resume();  // released meanwhile: do not wait for the next release
}

void RequestBudget::maybe_resume() {
  // Wake, in arrival order, every waiter whose request would fit now (small
  // ones may fit where large ones do not); each re-checks when it runs, the
  // first take what is left and the others register again.
  if (waiters_.empty()) return;
  std::deque<Waiter> still;
  for (auto& w : waiters_) {
    if (bounded() && used_ >= ceiling_for(w.bytes)) {
      still.push_back(std::move(w));
    } else {
      asio::post(io_, std::move(w.resume));
    }
  }
  waiters_ = std::move(still);
}

}  // namespace dmq::kafka
