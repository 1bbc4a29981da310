#include "rest/consumer_instances.h"

#include "common/metrics.h"

#include <chrono>
#include <random>
#include <set>

#include "group/consumer_protocol.h"
#include "kafka/protocol/consumer_assignor.h"
#include "kafka/protocol/record_walk.h"
#include "rest/consumer_instances_internal.h"
#include "rest/local_group_calls.h"
#include "rest/record_json.h"

namespace dmq::rest {
namespace {

using kafka::ErrorCode;
using net::HttpResponse;
using net::json_error;
using TopicPartition = group::TopicPartition;

}  // namespace

ConsumerInstances::ConsumerInstances(asio::io_context& io, group::Coordinator& coordinator,
                                     group::ShareIo& share_io, const broker::MetadataView& view,
                                     int64_t instance_timeout_ms)
    : io_(io),
      coordinator_(coordinator),
      share_io_(share_io),
      view_(view),
      instance_timeout_ms_(instance_timeout_ms),
      tick_timer_(io) {
  auto& r = metrics::registry();
  instances_gauge_ = &r.gauge("dmq_rest_consumer_instances",
                              "HTTP consumer instances (POST /v1/consumers/{g}) on this node.");
  expired_total_ = &r.counter("dmq_rest_consumer_instances_expired_total",
                              "HTTP consumer instances deleted for being idle.");
  records_total_ =
      &r.counter("dmq_rest_consumer_records_total", "Records HTTP consumer instances returned.");
}

ConsumerInstances::~ConsumerInstances() {
  stop();
}

void ConsumerInstances::start() {
  schedule_tick();
}

void ConsumerInstances::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  tick_timer_.cancel();
}

int64_t ConsumerInstances::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

ConsumerInstances::Instance* ConsumerInstances::find(const Key& key) {
  auto it = instances_.find(key);
  return it == instances_.end() ? nullptr : it->second.get();
}

// A completion names the instance and generation it was started for; an
// instance deleted (and maybe recreated under the same name) or a group that
// moved on to another generation meanwhile makes it a no-op.
ConsumerInstances::Instance* ConsumerInstances::find(const Ref& ref, bool same_generation) {
  if (!*alive_) return nullptr;
  Instance* in = find(ref.key);
  if (!in || in->incarnation != ref.incarnation) return nullptr;
  if (same_generation && in->generation != ref.generation) return nullptr;
  return in;
}

ConsumerInstances::Ref ConsumerInstances::ref_of(const Instance& in) const {
  return Ref{in.key, in.incarnation, in.generation};
}

HttpResponse ConsumerInstances::not_found(const Key& key) const {
  return json_error(404, "consumer_instance_not_found",
                    "no consumer instance '" + key.second + "' in group '" + key.first +
                        "' on this node (an instance lives on the node that created it: "
                        "use its base_uri; idle instances expire)");
}

// ---- the HTTP operations -------------------------------------------------------------------

std::variant<std::string, HttpResponse> ConsumerInstances::create(const std::string& group,
                                                                  const std::string& name,
                                                                  ConsumerSettings settings) {
  std::string id = name;
  if (id.empty()) {
    std::random_device rd;
    static const char* hex = "0123456789abcdef";
    id = "rest-consumer-";
    for (int i = 0; i < 16; ++i) id += hex[rd() % 16];
  }
  Key key{group, id};
  if (find(key))
    return json_error(409, "consumer_instance_exists",
                      "group '" + group + "' already has an instance named '" + id + "'");
  auto in = std::make_unique<Instance>();
  in->key = key;
  in->incarnation = next_incarnation_++;
  in->settings = settings;
  in->last_used_ms = now_ms();
  instances_.emplace(key, std::move(in));
  instances_gauge_->set(static_cast<double>(instances_.size()));
  return id;
}

std::optional<HttpResponse> ConsumerInstances::subscribe(const std::string& group,
                                                         const std::string& id,
                                                         std::vector<std::string> topics) {
  Instance* in = find(Key{group, id});
  if (!in) return not_found(Key{group, id});
  in->last_used_ms = now_ms();
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  if (topics == in->topics) return std::nullopt;
  in->topics = std::move(topics);
  // A new subscription is new member metadata: the group rebalances. A join
  // under way carries the old one: join again once it completes.
  if (in->phase == Instance::Phase::kJoining) in->resubscribed = true;
  rejoin(*in);
  return std::nullopt;
}

std::variant<std::vector<std::string>, HttpResponse> ConsumerInstances::subscription(
    const std::string& group, const std::string& id) {
  Instance* in = find(Key{group, id});
  if (!in) return not_found(Key{group, id});
  in->last_used_ms = now_ms();
  return in->topics;
}

void ConsumerInstances::remove(const std::string& group, const std::string& id,
                               bool only_subscription, Answer done) {
  Instance* in = find(Key{group, id});
  if (!in) return done(not_found(Key{group, id}));
  in->last_used_ms = now_ms();
  const Ref ref = ref_of(*in);
  maybe_auto_commit(*in, [this, ref, only_subscription, done](std::optional<HttpResponse>) {
    Instance* in = find(ref, false);
    if (!in) return done(not_found(ref.key));
    leave(*in);
    in->topics.clear();
    if (!only_subscription) instances_.erase(ref.key);
    instances_gauge_->set(static_cast<double>(instances_.size()));
    done(HttpResponse{204, "", "text/plain"});
  });
}

// ---- the tick ------------------------------------------------------------------------------

void ConsumerInstances::schedule_tick() {
  if (stopped_) return;
  tick_timer_.expires_after(std::chrono::milliseconds(kTickMs));
  tick_timer_.async_wait([this, alive = alive_](const std::error_code& ec) {
    if (ec || !*alive) return;
    on_tick();
    schedule_tick();
  });
}

void ConsumerInstances::on_tick() {
  const int64_t now = now_ms();
  std::vector<Key> expired;
  for (auto& [key, in] : instances_) {
    if (now - in->last_used_ms >= instance_timeout_ms_) {
      expired.push_back(key);
    } else if (!in->topics.empty() && in->phase == Instance::Phase::kOut) {
      join(*in);
    } else if (in->phase == Instance::Phase::kStable && !in->heartbeat_in_flight &&
               now - in->last_heartbeat_ms >= kHeartbeatIntervalMs) {
      heartbeat(*in);
    }
  }
  for (const auto& key : expired) {
    // Out of the map at once, so a request meanwhile sees it gone; the
    // commit and the LeaveGroup finish with the object kept alive here.
    std::shared_ptr<Instance> gone(instances_.at(key).release());
    instances_.erase(key);
    instances_gauge_->set(static_cast<double>(instances_.size()));
    expired_total_->inc();
    if (gone->settings.auto_commit && gone->phase == Instance::Phase::kStable) {
      std::map<TopicPartition, int64_t> next;
      for (const auto& [tp, pos] : gone->positions)
        if (!gone->committed.count(tp) || gone->committed.at(tp) != pos) next[tp] = pos;
      commit_offsets(*gone, std::move(next),
                     [this, gone, alive = alive_](std::optional<HttpResponse>) {
                       if (*alive) leave(*gone);
                     });
    } else {
      leave(*gone);
    }
  }
}

std::map<std::string, int32_t> ConsumerInstances::partition_counts() const {
  std::map<std::string, int32_t> out;
  auto image = view_.current();
  for (const auto& [name, t] : image->topics) out[name] = static_cast<int32_t>(t.partitions.size());
  return out;
}

}  // namespace dmq::rest
