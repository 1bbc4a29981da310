#pragma once
// ReplicaFetcher: a follower's Kafka connection to one source broker (the
// leader of some of its partitions), as Kafka's ReplicaFetcherThread: one
// connection per source broker, many partitions per request.
//
// The fetcher is only transport. Its owner (PartitionManager) decides what to
// ask for and what to do with the answers through three hooks, called on the
// event loop:
//   - epoch_queries(): OffsetForLeaderEpoch partitions to send before the
//     next Fetch (partitions whose leader changed and that must find their
//     divergence point first, KIP-101); empty when none;
//   - build_fetch(): the Fetch request (replica_id set by the fetcher); no
//     topics means idle: the fetcher waits for poke() or 250 ms;
//   - on_fetch(response, frame, next): the answer; records are views into
//     `frame`. The owner calls next() when it is ready for the next request
//     (after the fetched data is durable: a follower reports an offset to the
//     leader only once it holds everything below it on disk).
// Exactly one request is in flight at a time, so the fetch offsets the
// leader sees are the follower's durable log ends.
//
// Failures (connect, write, read, decode, a response slower than max_wait +
// 15 s) close the connection; the fetcher reconnects with exponential
// backoff (100 ms to 2 s) and calls on_disconnect() so the owner can re-plan.
//
// Lifetime: create with std::make_shared, start(), stop() when no partition
// is fetched from this broker any more. Handlers hold a shared_ptr, so the
// object may be dropped right after stop().

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kafka/protocol/messages.h"

namespace dmq::broker {

class ReplicaFetcher : public std::enable_shared_from_this<ReplicaFetcher> {
 public:
  struct Hooks {
    std::function<kafka::OffsetForLeaderEpochRequest()> epoch_queries;
    std::function<void(const kafka::OffsetForLeaderEpochResponse&)> on_epochs;
    std::function<kafka::FetchRequest()> build_fetch;
    std::function<void(kafka::FetchResponse&, std::shared_ptr<const std::string> frame,
                       std::function<void()> next)>
        on_fetch;
    std::function<void()> on_disconnect;
  };

  ReplicaFetcher(asio::io_context& io, int32_t node_id, int32_t source_id, std::string host,
                 uint16_t port, Hooks hooks);

  void start();
  void stop();
  // Ends an idle wait at once (new partitions to fetch).
  void poke();

  int32_t source_id() const { return source_id_; }
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  bool connected() const { return connected_; }

 private:
  void connect();
  void prove_membership();
  void cycle();
  void send(kafka::EncodedFrame frame, std::chrono::milliseconds timeout,
            std::function<void(std::shared_ptr<std::string>)> on_frame);
  void read_frame(std::chrono::milliseconds timeout,
                  std::function<void(std::shared_ptr<std::string>)> on_frame);
  void fail(const std::string& why);

  asio::io_context& io_;
  const int32_t node_id_;
  const int32_t source_id_;
  const std::string host_;
  const uint16_t port_;
  Hooks hooks_;
  asio::ip::tcp::socket socket_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer timer_;     // backoff and idle waits
  asio::steady_timer deadline_;  // bounds one exchange
  std::chrono::milliseconds backoff_{100};
  int32_t correlation_id_ = 0;
  uint64_t generation_ = 0;  // bumped by every close; stale handlers return
  bool connected_ = false;
  bool idle_ = false;
  bool stopped_ = false;
};

}  // namespace dmq::broker
