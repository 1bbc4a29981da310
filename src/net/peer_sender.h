#pragma once
// Sends Raft messages to one peer controller over HTTP keep-alive, on its own
// thread, so a slow or dead peer never stalls the event loop or the other
// peers. Messages queued while a request is in flight go out together in the
// next request. Raft tolerates loss, so on failure the queue is dropped (the
// core retries by heartbeat/probe) instead of growing without bound.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/options.h"
#include "raft/types.h"

namespace dmq::net {

class PeerSender {
 public:
  PeerSender(raft::NodeId peer, HostPort address);
  ~PeerSender();
  PeerSender(const PeerSender&) = delete;
  PeerSender& operator=(const PeerSender&) = delete;

  // Any thread. Drops the message if the queue is over its bound.
  void send(raft::Message message);
  void stop();

 private:
  void run();

  raft::NodeId peer_;
  HostPort address_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<raft::Message> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dmq::net
