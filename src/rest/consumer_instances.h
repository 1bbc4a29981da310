#pragma once
// HTTP consumer instances (Confluent REST Proxy v2's consumers, under /v1):
// each instance is a real member of its Kafka consumer group. It joins,
// syncs, heartbeats, commits and leaves through this node's group coordinator
// in-process (local_group_calls.h), offers the "range" and "roundrobin"
// protocols like any Kafka client, computes the assignment when it is the
// group's leader, and reads its partitions through group::ShareIo (led here
// or by another broker). Instances live on the node that created them, which
// is the group's coordinator (consumer_routes.h relays creation there).
//
// The membership runs on a 250 ms tick, not on the HTTP client's polls: an
// instance heartbeats every second and rejoins as soon as a rebalance starts,
// so a slow HTTP client never stalls its group; only an instance unused for
// `rest.consumer.instance.timeout.ms` leaves (after committing, with
// auto.commit.enable) and is deleted.
//
// Positions: a partition assigned anew starts at the group's committed offset,
// else at auto.offset.reset (earliest or latest); a partition kept across a
// rebalance keeps its position. With auto.commit.enable, every poll first
// commits what earlier polls returned, and so do a rebalance, a delete and the
// expiry.
//
// Metrics: dmq_rest_consumer_instances, dmq_rest_consumer_instances_expired_total,
// dmq_rest_consumer_records_total.
//
// Errors are answered as HTTP responses (JSON): 404 consumer_instance_not_found,
// 409 consumer_instance_exists / not_subscribed / rebalance_in_progress,
// 503 coordinator_not_available (retry).
//
// Threads: every method runs on the event-loop thread (call through
// EventLoop::call/call_async); callbacks run there too. `coordinator`, `io`
// and `view` must outlive it; stop() before they go.

#include <cstddef>

#include <asio.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/metadata_view.h"
#include "group/coordinator.h"
#include "group/share_io.h"
#include "net/http_server.h"

namespace dmq::metrics {
class Counter;
class Gauge;
}  // namespace dmq::metrics

namespace dmq::rest {

struct ConsumerSettings {
  bool from_earliest = false;  // auto.offset.reset
  bool auto_commit = true;     // auto.commit.enable
};

// An offset to commit: `offset` is the last record consumed (Confluent's
// meaning); the group stores offset + 1, the next one to read.
struct ConsumedOffset {
  group::TopicPartition tp;
  int64_t offset = 0;
};

struct PollAnswer {
  std::optional<net::HttpResponse> error;
  std::string records;  // JSON objects, comma separated
  size_t count = 0;
};

class ConsumerInstances {
 public:
  using Answer = std::function<void(net::HttpResponse)>;

  ConsumerInstances(asio::io_context& io, group::Coordinator& coordinator, group::ShareIo& share_io,
                    const broker::MetadataView& view, int64_t instance_timeout_ms);
  ~ConsumerInstances();
  ConsumerInstances(const ConsumerInstances&) = delete;
  ConsumerInstances& operator=(const ConsumerInstances&) = delete;

  void start();
  void stop();

  // The new instance's id ("name" if given) or the error.
  std::variant<std::string, net::HttpResponse> create(const std::string& group,
                                                      const std::string& name,
                                                      ConsumerSettings settings);
  std::optional<net::HttpResponse> subscribe(const std::string& group, const std::string& id,
                                             std::vector<std::string> topics);
  std::variant<std::vector<std::string>, net::HttpResponse> subscription(const std::string& group,
                                                                         const std::string& id);
  // Reads what is there now on the assigned partitions (no waiting: the
  // caller polls again until its timeout). Not yet in the group: no records.
  void poll(const std::string& group, const std::string& id, uint32_t max_bytes,
            std::function<void(PollAnswer)> done);
  // Commits `offsets`, or with nullopt the positions consumed so far.
  void commit(const std::string& group, const std::string& id,
              std::optional<std::vector<ConsumedOffset>> offsets, Answer done);
  // The group's committed offsets of `partitions` (empty: the assigned ones).
  void committed(const std::string& group, const std::string& id,
                 std::vector<group::TopicPartition> partitions, Answer done);
  // Unsubscribes (leaves the group) when `only_subscription`, else deletes.
  void remove(const std::string& group, const std::string& id, bool only_subscription, Answer done);
  size_t size() const { return instances_.size(); }

 private:
  struct Instance;
  using Key = std::pair<std::string, std::string>;  // group, instance id
  struct Ref {
    Key key;
    uint64_t incarnation = 0;
    int32_t generation = -1;
  };

  Instance* find(const Key& key);
  Instance* find(const Ref& ref, bool same_generation);
  Ref ref_of(const Instance& in) const;
  net::HttpResponse not_found(const Key& key) const;
  void schedule_tick();
  void on_tick();
  int64_t now_ms() const;

  // ---- membership ----
  void join(Instance& in);
  void on_joined(const Ref& ref, const kafka::JoinGroupResponse& resp);
  void sync(Instance& in, const kafka::JoinGroupResponse& joined);
  void on_synced(const Ref& ref, const kafka::SyncGroupResponse& resp);
  void fetch_start_positions(Instance& in);
  void become_stable(Instance& in);
  void heartbeat(Instance& in);
  void on_heartbeat(const Ref& ref, kafka::ErrorCode error);
  void rejoin(Instance& in);
  void leave(Instance& in);
  void drop_membership(Instance& in);
  std::map<std::string, int32_t> partition_counts() const;

  // ---- offsets ----
  using Committed = std::function<void(std::optional<net::HttpResponse>)>;
  void commit_offsets(Instance& in, std::map<group::TopicPartition, int64_t> next_offsets,
                      Committed done);
  void maybe_auto_commit(Instance& in, Committed done);

  // ---- reads ----
  struct PartitionRead;
  void finish_poll(const Ref& ref, std::vector<PartitionRead> reads,
                   std::function<void(PollAnswer)> done);

  asio::io_context& io_;
  group::Coordinator& coordinator_;
  group::ShareIo& share_io_;
  const broker::MetadataView& view_;
  const int64_t instance_timeout_ms_;
  asio::steady_timer tick_timer_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  uint64_t next_incarnation_ = 1;
  std::map<Key, std::unique_ptr<Instance>> instances_;

  metrics::Gauge* instances_gauge_;
  metrics::Counter* expired_total_;
  metrics::Counter* records_total_;
};

}  // namespace dmq::rest
