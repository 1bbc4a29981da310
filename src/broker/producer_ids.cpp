#include "broker/producer_ids.h"

#include <rapidjson/document.h>

#include <limits>

#include "common/log.h"

namespace dmq::broker {

ProducerIdAllocator::ProducerIdAllocator(asio::io_context& io, ControllerClient& controller,
                                         const MetadataView& view, int32_t broker_id)
    : io_(io), controller_(controller), view_(view), broker_id_(broker_id) {}

ProducerIdAllocator::~ProducerIdAllocator() {
  *alive_ = false;
}

void ProducerIdAllocator::init_producer_id(Done done) {
  if (waiters_.empty()) {
    if (auto id = take_id()) {
      answer(std::move(done), {kafka::ErrorCode::kNone, ProducerId(*id), 0});
      maybe_request_block();
      return;
    }
  }
  // Queued behind earlier waiters so ids go out in arrival order.
  waiters_.push_back(std::move(done));
  maybe_request_block();
}

std::optional<int64_t> ProducerIdAllocator::take_id() {
  if (current_.next == current_.end && next_block_) {
    current_ = *next_block_;
    next_block_.reset();
  }
  if (current_.next == current_.end) return std::nullopt;
  return current_.next++;
}

// Asks for a block when callers wait, or ahead of need once at most 10% of
// the current block is left and none is prefetched.
void ProducerIdAllocator::maybe_request_block() {
  if (in_flight_ || next_block_) return;
  const int64_t left = current_.end - current_.next;
  const bool low = left * 10 <= current_.count;  // also true before the first block
  if (waiters_.empty() && !low) return;

  auto image = view_.current();
  auto it = image->brokers.find(cluster::BrokerId(broker_id_));
  if (it == image->brokers.end()) {
    // Not registered yet: the controllers would refuse the request anyway.
    fail_waiters();
    return;
  }
  in_flight_ = true;
  std::weak_ptr<bool> alive = alive_;
  controller_.allocate_producer_ids(broker_id_, it->second.epoch.value,
                                    [this, alive](const AdminResult& result) {
                                      if (alive.expired() || !*alive.lock()) return;
                                      handle_block(result);
                                    });
}

std::optional<ProducerIdAllocator::Block> ProducerIdAllocator::parse_block(
    const AdminResult& result) const {
  if (!result.ok()) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(result.body.data(), result.body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto first = doc.FindMember("first_producer_id");
  auto count = doc.FindMember("count");
  if (first == doc.MemberEnd() || count == doc.MemberEnd()) return std::nullopt;
  if (!first->value.IsInt64() || !count->value.IsInt64()) return std::nullopt;
  const int64_t f = first->value.GetInt64();
  const int64_t c = count->value.GetInt64();
  if (f < 0 || c <= 0 || f > std::numeric_limits<int64_t>::max() - c) return std::nullopt;
  // Never below an id already handed out (an old or repeated answer).
  if (f < highest_end_) return std::nullopt;
  return Block{f, f + c, c};
}

void ProducerIdAllocator::handle_block(const AdminResult& result) {
  in_flight_ = false;
  std::optional<Block> block = parse_block(result);
  if (!block) {
    LOG_WARN("producer-ids") << "no producer id block from the controllers: status="
                             << result.http_status << " code=" << result.code << " "
                             << result.message << (result.ok() ? " (unusable answer)" : "");
    fail_waiters();
    return;
  }
  LOG_INFO("producer-ids") << "producer id block [" << block->next << ", " << block->end << ")";
  highest_end_ = block->end;
  if (current_.next == current_.end) {
    current_ = *block;
  } else {
    next_block_ = *block;
  }
  serve_waiters();
  maybe_request_block();
}

void ProducerIdAllocator::serve_waiters() {
  while (!waiters_.empty()) {
    auto id = take_id();
    if (!id) return;
    Done done = std::move(waiters_.front());
    waiters_.pop_front();
    answer(std::move(done), {kafka::ErrorCode::kNone, ProducerId(*id), 0});
  }
}

void ProducerIdAllocator::fail_waiters() {
  std::deque<Done> waiters;
  waiters.swap(waiters_);
  for (Done& done : waiters) {
    answer(std::move(done), {kafka::ErrorCode::kCoordinatorLoadInProgress, ProducerId(-1), -1});
  }
}

void ProducerIdAllocator::answer(Done done, const ProducerIdResult& result) {
  asio::post(io_, [done = std::move(done), result] { done(result); });
}

}  // namespace dmq::broker
