#pragma once
// group::ShareIo over the cluster: a partition this broker leads is read and
// appended to through broker::Backend on the loop; any other through its
// leader's internal endpoints (POST /internal/share/read and
// /internal/share/append, served by share_group_routes.cpp) on a small pool
// of HTTP client threads, whose answers come back to the loop.
//
// Threads: read() and append() on the loop thread; callbacks on the loop
// thread. Ownership: `io`, `backend` and `view` must outlive it; destroying it
// joins the client threads and drops answers still out.

#include <functional>
#include <string>

#include "broker/backend.h"
#include "broker/metadata_view.h"
#include "group/share_io.h"
#include "rest/peer_workers.h"

namespace asio {
class io_context;
}

namespace dmq::rest {

// Marks node-to-node share requests (no second forwarding hop).
inline constexpr const char* kShareForwardedHeader = "X-DMQ-Share-Forwarded";

class ShareGroupIo : public group::ShareIo {
 public:
  ShareGroupIo(asio::io_context& io, broker::Backend& backend, const broker::MetadataView& view);
  ~ShareGroupIo() override;
  ShareGroupIo(const ShareGroupIo&) = delete;
  ShareGroupIo& operator=(const ShareGroupIo&) = delete;

  void read(const group::TopicPartition& tp, int64_t offset, uint32_t max_bytes,
            std::function<void(group::ShareRead)> done) override;
  void append(const group::TopicPartition& tp, std::string batch,
              std::function<void(group::ShareAppend)> done) override;

 private:
  static constexpr int kThreads = 8;
  // Runs `job` on a client thread.
  void submit(std::function<void()> job);
  // The leader's id and HTTP address, or false when the partition has none.
  bool leader_address(const group::TopicPartition& tp, int32_t* leader, std::string* host,
                      uint16_t* port) const;
  void post_to_loop(std::function<void()> fn);

  broker::Backend& backend_;
  const broker::MetadataView& view_;
  PeerWorkers workers_;  // last: joined first, while the rest is still alive
};

}  // namespace dmq::rest
