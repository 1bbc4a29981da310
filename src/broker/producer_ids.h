#pragma once
// ProducerIdAllocator: hands out producer ids for InitProducerId (idempotent
// producers, KIP-98) from blocks the controllers commit for this broker
// (KIP-730 AllocateProducerIds: the quorum's AllocateProducerIdsRecord makes
// every id belong to exactly one broker, so brokers never hand out the same
// id twice, across restarts included).
//
// - Ids come from the current block [first, first + count); each answer is
//   (id, epoch 0).
// - When at most 10% of the current block is left, the next block is
//   requested ahead of need (Kafka's RPCProducerIdManager prefetch), so a
//   steady stream of producers never waits for the quorum.
// - A caller arriving with the blocks used up waits; at most one request to
//   the controllers is in flight, whatever the number of waiters.
// - When the controllers cannot be reached or refuse (the broker is not
//   registered yet, a stale broker epoch, no quorum), the waiters get
//   COORDINATOR_LOAD_IN_PROGRESS: the error Kafka's own broker gives when its
//   next block has not arrived. librdkafka retries every InitProducerId error
//   except the fatal ones (authorization, fencing) after 500 ms, and the Java
//   client re-sends on this one. There is no timer here: the next call
//   sends the next request.
// - A block that does not lie entirely above every id handed out before is
//   refused (same error): an old or repeated answer must never give an id
//   out twice.
//
// The broker epoch sent with each request is this broker's registration in
// the current metadata image (`view`); a broker absent from the image gets
// the retriable error without a request.
//
// Threads: every method runs on the event loop of `io`; `done` always runs
// later on that loop (posted), never inside init_producer_id().
// PartitionManager (a Backend) forwards Backend::init_producer_id here.

#include <asio.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>

#include "broker/backend.h"
#include "broker/controller_client.h"
#include "broker/metadata_view.h"

namespace dmq::broker {

class ProducerIdAllocator {
 public:
  using Done = std::function<void(const ProducerIdResult&)>;

  // `io`, `controller` and `view` must outlive the allocator.
  ProducerIdAllocator(asio::io_context& io, ControllerClient& controller, const MetadataView& view,
                      int32_t broker_id);
  // Callers still waiting are dropped without an answer; an answer from the
  // controllers arriving later is ignored.
  ~ProducerIdAllocator();
  ProducerIdAllocator(const ProducerIdAllocator&) = delete;
  ProducerIdAllocator& operator=(const ProducerIdAllocator&) = delete;

  // A fresh producer id with epoch 0, or COORDINATOR_LOAD_IN_PROGRESS.
  void init_producer_id(Done done);

  // For tests and metrics.
  int64_t ids_left_in_current_block() const { return current_.end - current_.next; }
  bool has_next_block() const { return next_block_.has_value(); }
  bool request_in_flight() const { return in_flight_; }
  size_t waiting() const { return waiters_.size(); }

 private:
  struct Block {
    int64_t next = 0;  // the next id to hand out
    int64_t end = 0;   // one past the block's last id
    int64_t count = 0;
  };

  void maybe_request_block();
  void handle_block(const AdminResult& result);
  std::optional<Block> parse_block(const AdminResult& result) const;
  // Takes an id if one is left (moving to the prefetched block when needed).
  std::optional<int64_t> take_id();
  void serve_waiters();
  void fail_waiters();
  void answer(Done done, const ProducerIdResult& result);

  asio::io_context& io_;
  ControllerClient& controller_;
  const MetadataView& view_;
  const int32_t broker_id_;
  Block current_;                    // empty until the first block arrives
  std::optional<Block> next_block_;  // prefetched
  int64_t highest_end_ = 0;          // end of the newest block accepted
  bool in_flight_ = false;
  std::deque<Done> waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dmq::broker
