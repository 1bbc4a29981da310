#pragma once
// FramePool: request frame buffers that a connection reuses. A fresh
// std::string of a produce request's size (~1 MB with librdkafka's defaults)
// costs a zero fill and, above glibc's mmap threshold, a page fault per 4 KiB
// on every request: a quarter of the broker's CPU when producing 1 KiB
// messages (perf, 2026-11-27). A reused buffer is already mapped, and
// resizing it to a size it already had writes nothing.
//
// A frame handed out by take() returns to the pool when its last owner drops
// it (the Exchange, a parked handler, a produce waiting for its group
// commit), so no request bytes are ever reused while a view into them lives.
// Only buffers of at most kMaxPooledBytes are kept, at most kMaxPooled of
// them: a pool pins at most 16 MiB, and a rare huge request does not.
//
// Ownership: shared; every frame handed out keeps its pool alive. Threads:
// take() and the release of frames may happen on any thread (one mutex).

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dmq::kafka {

class FramePool : public std::enable_shared_from_this<FramePool> {
 public:
  static constexpr size_t kMaxPooled = 8;
  static constexpr size_t kMaxPooledBytes = size_t{2} << 20;

  static std::shared_ptr<FramePool> create() { return std::shared_ptr<FramePool>(new FramePool); }

  // A buffer of exactly `size` bytes (contents unspecified).
  std::shared_ptr<std::string> take(size_t size);
  size_t pooled() const;

 private:
  FramePool() = default;
  void give_back(std::string* buffer);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<std::string>> free_;
};

}  // namespace dmq::kafka
