#include "net/peer_sender.h"

#include <httplib.h>

#include <chrono>

#include "common/log.h"
#include "common/metrics.h"
#include "net/cluster_http.h"
#include "net/raft_codec.h"

namespace dmq::net {
namespace {

constexpr size_t kMaxQueuedBytes = size_t{64} << 20;
constexpr size_t kMaxBatchMessages = 512;

size_t approx_bytes(const raft::Message& m) {
  size_t bytes = 128 + m.snapshot_data.size();
  for (const auto& e : m.entries) bytes += e.size_bytes();
  return bytes;
}

}  // namespace

PeerSender::PeerSender(raft::NodeId peer, HostPort address)
    : peer_(peer), address_(std::move(address)), thread_([this] { run(); }) {}

PeerSender::~PeerSender() {
  stop();
}

void PeerSender::send(raft::Message message) {
  size_t bytes = approx_bytes(message);
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queued_bytes_ + bytes > kMaxQueuedBytes) return;
    queued_bytes_ += bytes;
    queue_.push_back(std::move(message));
  }
  wake_.notify_one();
}

void PeerSender::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void PeerSender::run() {
  PeerClient peer(address_.host, address_.port);
  httplib::Client& client = peer.http();
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(0, 300000);  // 300 ms: a dead peer fails fast
  client.set_read_timeout(2, 0);
  client.set_write_timeout(2, 0);
  auto& failures = metrics::registry().counter("dmq_raft_send_failures_total",
                                               "Raft RPCs to a peer that failed.",
                                               {{"peer", std::to_string(peer_.value)}});
  auto backoff = std::chrono::milliseconds(0);
  for (;;) {
    std::vector<raft::Message> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      while (!queue_.empty() && batch.size() < kMaxBatchMessages) {
        queued_bytes_ -= approx_bytes(queue_.front());
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    auto result = peer.post("/internal/raft/messages", encode_raft_messages(batch));
    if (result && result->status == 204) {
      backoff = std::chrono::milliseconds(0);
      continue;
    }
    failures.inc();
    LOG_DEBUG("raft") << "send to " << peer_.value << " at " << address_.to_string() << " failed: "
                      << (result ? "HTTP " + std::to_string(result->status)
                                 : httplib::to_string(result.error()));
    // The peer is down or slow: what is queued is stale by the time it is
    // back; drop it and let the core resend fresh state.
    {
      std::lock_guard lock(mutex_);
      queue_.clear();
      queued_bytes_ = 0;
    }
    backoff = std::min(std::chrono::milliseconds(500), backoff * 2 + std::chrono::milliseconds(20));
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, backoff, [this] { return stopping_; });
  }
}

}  // namespace dmq::net
