#include "kafka/server/server_frame_pool.h"

namespace dmq::kafka {

std::shared_ptr<std::string> FramePool::take(size_t size) {
  std::unique_ptr<std::string> buffer;
  {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      buffer = std::move(free_.back());
      free_.pop_back();
    }
  }
  if (!buffer) buffer = std::make_unique<std::string>();
  // Shrinking writes nothing; growing zero-fills only the new tail.
  buffer->resize(size);
  auto self = shared_from_this();
  return std::shared_ptr<std::string>(buffer.release(),
                                      [self](std::string* s) { self->give_back(s); });
}

void FramePool::give_back(std::string* buffer) {
  std::unique_ptr<std::string> owned(buffer);
  if (owned->capacity() > kMaxPooledBytes) return;
  std::lock_guard lock(mu_);
  if (free_.size() < kMaxPooled) free_.push_back(std::move(owned));
}

size_t FramePool::pooled() const {
  std::lock_guard lock(mu_);
  return free_.size();
}

}  // namespace dmq::kafka
