// FramePool: request buffers come back after their last owner drops them,
// are never handed out while still owned, and the pool stays bounded.
#include <doctest/doctest.h>

#include <vector>

#include "kafka/server/server_frame_pool.h"

using dmq::kafka::FramePool;

TEST_CASE("a released frame is reused without a new allocation, at the size asked") {
  auto pool = FramePool::create();
  auto first = pool->take(1000000);
  REQUIRE(first->size() == 1000000);
  const char* bytes = first->data();
  first.reset();
  CHECK(pool->pooled() == 1);
  auto second = pool->take(999000);  // a slightly smaller request: same memory
  CHECK(second->data() == bytes);
  CHECK(second->size() == 999000);
  CHECK(pool->pooled() == 0);
}

TEST_CASE("a frame still owned elsewhere is not handed out again") {
  auto pool = FramePool::create();
  auto held = pool->take(4096);
  auto copy = held;  // e.g. a produce waiting for its group commit
  held.reset();
  CHECK(pool->pooled() == 0);
  auto other = pool->take(4096);
  CHECK(other->data() != copy->data());
  copy.reset();
  CHECK(pool->pooled() == 1);
}

TEST_CASE("the pool keeps at most kMaxPooled buffers, none above kMaxPooledBytes") {
  auto pool = FramePool::create();
  std::vector<std::shared_ptr<std::string>> frames;
  for (size_t i = 0; i < FramePool::kMaxPooled + 3; ++i) frames.push_back(pool->take(100));
  frames.clear();
  CHECK(pool->pooled() == FramePool::kMaxPooled);

  auto empty = FramePool::create();
  auto huge = empty->take(FramePool::kMaxPooledBytes + 1);
  huge.reset();
  CHECK(empty->pooled() == 0);
}

TEST_CASE("frames outlive their pool's other owners") {
  auto pool = FramePool::create();
  auto frame = pool->take(64);
  pool.reset();  // the connection is gone; a handler still holds the request
  (*frame)[0] = 'x';
  CHECK(frame->size() == 64);
  frame.reset();  // returns to (and then frees) the pool without a crash
}
