#pragma once
// The broker side of the controller protocol (DESIGN.md §1, §4):
//  - finds the controller leader by asking every configured controller in
//    parallel (exponential backoff with jitter while none answers; leader
//    hints followed), registers (getting a broker epoch), heartbeats, and
//    registers again when its epoch is refused (after a controller restart
//    or a fencing);
//  - in a broker-only process, keeps the metadata by tailing the committed
//    controller log (long poll) and applying it with the same state-machine
//    code into its own LMDB tables, loading a snapshot when too far behind;
//  - on SIGTERM, asks for a controlled shutdown (its leaderships move away)
//    before the process stops.
// Threads: a session thread and, broker-only, a tail thread, both blocking
// on HTTP; results reach the event loop by net::EventLoop::post.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "broker/metadata_view.h"
#include "cluster/metadata_store.h"
#include "common/options.h"
#include "net/event_loop.h"
#include "net/http_server.h"

namespace dmq::broker {

class BrokerAgent {
 public:
  // `tail_store` is the broker's own metadata store (broker-only role), or
  // null when the controller in the same process publishes the view.
  BrokerAgent(net::EventLoop& loop, const Options& options, broker::MetadataView& view,
              cluster::MetadataStore* tail_store);
  ~BrokerAgent();

  // Every advertised Kafka listener, sent with each registration (before start()).
  void set_listeners(std::vector<cluster::BrokerListener> listeners) {
    listeners_ = std::move(listeners);
  }
  void start();
  // Controlled shutdown, bounded in time; `done` runs on the loop thread.
  void shutdown_then(std::function<void()> done);
  void stop();

  int64_t broker_epoch() const { return broker_epoch_.load(); }
  // Authenticates its REST calls (GET /v1/cluster). Set before start().
  void set_signer(net::RequestSigner signer) { signer_ = std::move(signer); }

 private:
  struct Controller;
  void run_session();
  void run_tail();
  bool sleep_for(std::chrono::milliseconds duration);  // false when stopping
  std::optional<Voter> find_leader();
  bool register_with(const Voter& leader);
  void publish_from_store();

  net::EventLoop& loop_;
  const Options& options_;
  broker::MetadataView& view_;
  cluster::MetadataStore* tail_store_;
  std::string incarnation_id_;
  std::vector<cluster::BrokerListener> listeners_;
  std::atomic<int64_t> broker_epoch_{-1};
  net::RequestSigner signer_;
  std::atomic<bool> want_shutdown_{false};
  std::atomic<bool> shutdown_ready_{false};
  std::atomic<int32_t> leader_hint_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread session_thread_;
  std::thread tail_thread_;
};

}  // namespace dmq::broker
