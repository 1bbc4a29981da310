#pragma once
// group::ShareIo over the cluster: a partition this broker leads is read and
// appended to through broker::Backend on the loop; any other through its
// leader's internal endpoints (POST /internal/share/read and
// /internal/share/append, served by share_group_routes.cpp) on a small pool
// of HTTP client threads, whose answers come back to the loop. watch() parks
// on the Backend for local partitions; for remote ones it long-polls
// POST /internal/share/watch on their leader, one poll per leader at a time
// (on threads of its own, so polls never hold up reads and appends), shared
// by every watcher it covers.
//
// Threads: read() and append() on the loop thread; callbacks on the loop
// thread. Ownership: `io`, `backend` and `view` must outlive it; destroying it
// joins the client threads and drops answers still out.

#include <functional>
#include <map>
#include <memory>
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
  void watch(const WatchList& from, std::chrono::milliseconds timeout,
             std::function<void()> wake) override;

  // The longest a remote watch waits on its leader before it answers (and
  // its watchers look again): bounds what a shutdown waits for.
  static constexpr int kRemoteWatchMs = 1000;

 private:
  static constexpr int kThreads = 8;
  static constexpr int kWatchThreads = 4;
  // The long poll in flight to one leader: what it covers, who waits on it.
  struct RemoteWatch {
    std::map<group::TopicPartition, int64_t> from;
    std::vector<std::function<void()>> wakes;
  };
  void watch_remote(int32_t leader, const std::string& host, uint16_t port, const WatchList& from,
                    std::function<void()> wake);
  void wake_later(std::function<void()> wake);
  // Runs `job` on a client thread.
  void submit(std::function<void()> job);
  // The leader's id and HTTP address, or false when the partition has none.
  bool leader_address(const group::TopicPartition& tp, int32_t* leader, std::string* host,
                      uint16_t* port) const;
  void post_to_loop(std::function<void()> fn);

  broker::Backend& backend_;
  const broker::MetadataView& view_;
  asio::io_context& io_;
  std::map<int32_t, RemoteWatch> remote_watches_;  // by leader; loop thread only
  PeerWorkers watch_workers_;
  PeerWorkers workers_;  // last: joined first, while the rest is still alive
};

}  // namespace dmq::rest
