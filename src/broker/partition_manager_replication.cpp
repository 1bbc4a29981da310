// Replication: the leader's view of its followers (high watermark, ISR
// changes) and the follower's fetch loop (truncation, appends). Kafka's
// Partition/ReplicaManager/ReplicaFetcherThread, reduced to what DMQ needs.
#include <algorithm>
#include <chrono>

#include "broker/clock.h"
#include "broker/partition_manager.h"
#include "common/log.h"
#include "kafka/protocol/record_batch.h"
#include "rapidjson/document.h"

namespace dmq::broker {
namespace {

using kafka::ErrorCode;

bool contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<int32_t> ids(const std::vector<cluster::BrokerId>& v) {
  std::vector<int32_t> out;
  out.reserve(v.size());
  for (auto b : v) out.push_back(b.value);
  return out;
}

constexpr int32_t kReplicaFetchMaxWaitMs = 500;
// How long after this broker became leader of a partition a follower that
// has not fetched it yet gets its fetches answered after kNewFollowerMaxWait
// instead of max_wait_ms.
constexpr auto kNewFollowerWindow = std::chrono::milliseconds(2000);
constexpr auto kNewFollowerMaxWait = std::chrono::milliseconds(20);
constexpr int32_t kReplicaPartitionMaxBytes = 1 << 20;  // replica.fetch.max.bytes
constexpr int32_t kReplicaResponseMaxBytes = 10 << 20;  // replica.fetch.response.max.bytes
constexpr int64_t kRetryBackoffMs = 200;
// A follower whose disk refused an append tries again this much later.
constexpr int64_t kStorageRetryBackoffMs = 1000;

}  // namespace

// ---- roles -------------------------------------------------------------------------

void PartitionManager::update_replication_role(Partition& p, const cluster::PartitionState& state,
                                               int32_t leader_id, bool leader_changed) {
  // An AlterPartition answer may already have told us a newer state.
  if (state.partition_epoch.value > p.partition_epoch || leader_changed) {
    p.partition_epoch = state.partition_epoch.value;
    p.isr = ids(state.isr);
    // The partition changed: our pending proposal committed or lost; either
    // way the image now decides.
    p.alter_in_flight = false;
    p.proposed_isr.clear();
  }
  p.replicas = ids(state.replicas);
  p.adding = std::find(state.adding_replicas.begin(), state.adding_replicas.end(),
                       cluster::BrokerId(options_.node_id)) != state.adding_replicas.end();
  p.leader_id = leader_id;
  if (!leader_changed) {
    if (p.is_leader) maybe_advance_leader_high_watermark(p);
    return;
  }
  // acks=all waiters were accepted under the previous leadership: a deposed
  // leader's copy may be truncated, and a re-elected one answers only for
  // its new term (the producer retries; idempotence deduplicates).
  fail_ack_waiters(p, ErrorCode::kNotLeaderOrFollower);
  // Answers to requests sent for the previous leadership are not ours any more.
  p.epoch_query.reset();
  p.fetch.reset();
  if (p.is_leader) {
    become_leader(p);
  } else {
    become_follower(p);
  }
}

void PartitionManager::become_leader(Partition& p) {
  p.follow = Follow::kNone;
  p.fetch_source = -1;
  p.alter_in_flight = false;
  p.proposed_isr.clear();
  p.followers.clear();
  const int64_t now = steady_ms();
  // Kafka gives every follower a full lag period from the election on.
  for (int32_t r : p.replicas)
    if (r != options_.node_id) p.followers[r].last_caught_up_ms = now;
  note_new_followers(p);
  if (p.log) {
    p.local_durable = std::max(p.local_durable, p.log->durable_end_offset());
    p.epoch_start_offset = p.log->log_end_offset().value;
  }
  LOG_INFO("replica") << "leading " << p.topic << "-" << p.index << " at epoch " << p.leader_epoch
                      << " (log end " << p.epoch_start_offset << ", high watermark "
                      << p.high_watermark.value << ")";
  maybe_advance_leader_high_watermark(p);
}

void PartitionManager::become_follower(Partition& p) {
  p.followers.clear();
  p.alter_in_flight = false;
  p.proposed_isr.clear();
  p.retry_after_ms = 0;
  if (p.leader_id < 0 || p.leader_id == options_.node_id || !p.log) {
    p.follow = Follow::kNone;
    p.fetch_source = -1;
    return;
  }
  // KIP-101: find where this log diverges from the new leader's before fetching.
  p.follow = Follow::kTruncating;
  p.fetch_source = p.leader_id;
  fetcher_for(p.leader_id).poke();
}

// ---- leader: followers, high watermark ----------------------------------------------

void PartitionManager::record_follower_fetch(Partition& p, int32_t replica, int64_t offset) {
  if (!p.is_leader || !p.log) return;
  const int64_t now = steady_ms();
  const int64_t leader_end = p.log->log_end_offset().value;
  // Past our log end the follower holds a divergent tail, not our data: the
  // read answers OFFSET_OUT_OF_RANGE and it truncates first.
  if (offset > leader_end) return;
  if (auto it = new_followers_.find(replica); it != new_followers_.end()) {
    it->second.unfetched.erase({p.topic, p.index});
    if (it->second.unfetched.empty()) new_followers_.erase(it);
  }
  FollowerProgress& f = p.followers[replica];
  // Kafka's Replica.updateFetchState: caught up if it asked for the log end,
  // or for at least what the log end was at its previous fetch.
  if (offset >= leader_end) {
    f.last_caught_up_ms = now;
  } else if (f.leader_end_at_last_fetch >= 0 && offset >= f.leader_end_at_last_fetch) {
    f.last_caught_up_ms = std::max(f.last_caught_up_ms, f.last_fetch_ms);
  }
  f.log_end = offset;
  f.leader_end_at_last_fetch = leader_end;
  f.last_fetch_ms = now;
  maybe_advance_leader_high_watermark(p);
}

void PartitionManager::note_new_followers(const Partition& p) {
  const auto now = std::chrono::steady_clock::now();
  for (int32_t r : p.replicas) {
    if (r == options_.node_id) continue;
    NewFollower& f = new_followers_[r];
    f.assigned_at = now;
    f.unfetched.insert({p.topic, p.index});
    // Its parked fetch cannot name this partition: answer it so that the
    // follower's next request does (the partition's high watermark waits for it).
    wake_fetches_of(r);
  }
}

std::chrono::steady_clock::time_point PartitionManager::replica_answer_by(
    BrokerId replica, std::chrono::steady_clock::time_point received) {
  auto it = new_followers_.find(replica.value);
  if (it == new_followers_.end()) return std::chrono::steady_clock::time_point::max();
  if (it->second.assigned_at >= received) return received;  // sent before the assignment
  if (std::chrono::steady_clock::now() - it->second.assigned_at > kNewFollowerWindow) {
    // It never fetched some of them (down, or its metadata is behind): stop
    // cutting its waits short; its regular fetches pick them up later.
    new_followers_.erase(it);
    return std::chrono::steady_clock::time_point::max();
  }
  // It may have sent this before it learnt of the partition: a short wait
  // only, so the request that names it follows soon.
  return received + kNewFollowerMaxWait;
}

std::vector<int32_t> PartitionManager::maximal_isr(const Partition& p) const {
  // KIP-497: while an expansion is pending the new member already counts.
  std::vector<int32_t> out = p.isr;
  if (p.alter_in_flight)
    for (int32_t r : p.proposed_isr)
      if (!contains(out, r)) out.push_back(r);
  return out;
}

void PartitionManager::maybe_advance_leader_high_watermark(Partition& p) {
  if (!p.is_leader || !p.log) return;
  store::Offset hw = p.local_durable;
  for (int32_t r : maximal_isr(p)) {
    if (r == options_.node_id) continue;
    auto it = p.followers.find(r);
    if (it == p.followers.end() || it->second.log_end < 0) return;  // not heard from yet
    hw = std::min(hw, store::Offset(it->second.log_end));
  }
  advance_high_watermark(p, hw);
}

// ---- leader: ISR changes (KIP-497) --------------------------------------------------

void PartitionManager::schedule_isr_check() {
  const auto period = std::chrono::milliseconds(
      std::clamp<int64_t>(options_.replica_lag_time_max_ms / 4, 50, 1000));
  isr_timer_.expires_after(period);
  isr_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const asio::error_code& ec) {
    auto a = alive.lock();
    if (ec || !a || !*a || stopped_) return;
    check_isr(steady_ms());
    update_replication_metrics();
    schedule_isr_check();
  });
}

void PartitionManager::check_isr(int64_t now) {
  auto image = view_.current();
  for (auto& [topic, parts] : partitions_) {
    for (auto& [index, ptr] : parts) {
      Partition& p = *ptr;
      if (!p.is_leader || !p.log || p.alter_in_flight) continue;
      // Shrink: in the ISR but not caught up for replica.lag.time.max.ms.
      std::vector<int32_t> keep;
      for (int32_t r : p.isr) {
        auto it = p.followers.find(r);
        bool lagging = r != options_.node_id && it != p.followers.end() &&
                       now - it->second.last_caught_up_ms > options_.replica_lag_time_max_ms;
        if (!lagging) keep.push_back(r);
      }
      if (keep.size() < p.isr.size()) {
        maybe_change_isr(p, keep, true);
        continue;
      }
      // Expand: a live replica that reached the high watermark and this
      // leadership's first offset (so it holds no divergent tail).
      for (int32_t r : p.replicas) {
        if (r == options_.node_id || contains(p.isr, r)) continue;
        auto it = p.followers.find(r);
        if (it == p.followers.end() || it->second.log_end < 0) continue;
        auto b = image->brokers.find(cluster::BrokerId(r));
        if (b == image->brokers.end() || b->second.fenced) continue;
        if (it->second.log_end >= p.high_watermark.value &&
            it->second.log_end >= p.epoch_start_offset) {
          std::vector<int32_t> grown = p.isr;
          grown.push_back(r);
          maybe_change_isr(p, grown, false);
          break;
        }
      }
    }
  }
}

void PartitionManager::maybe_change_isr(Partition& p, std::vector<int32_t> new_isr, bool shrink) {
  auto image = view_.current();
  auto me = image->brokers.find(cluster::BrokerId(options_.node_id));
  if (me == image->brokers.end()) return;  // not registered yet
  AlterPartitionSpec spec;
  spec.broker_id = options_.node_id;
  spec.broker_epoch = me->second.epoch.value;
  spec.topic = p.topic;
  spec.partition = p.index;
  spec.leader_epoch = p.leader_epoch;
  spec.partition_epoch = p.partition_epoch;
  spec.isr = new_isr;
  p.alter_in_flight = true;
  p.proposed_isr = new_isr;
  LOG_INFO("replica") << (shrink ? "shrinking" : "expanding") << " ISR of " << p.topic << "-"
                      << p.index << " to " << new_isr.size() << " replicas";
  std::weak_ptr<bool> alive = alive_;
  controller_.alter_partition(spec, [this, alive, topic = p.topic, partition = p.index, new_isr,
                                     shrink, stamp = p.stamp()](const AdminResult& result) {
    auto a = alive.lock();
    if (!a || !*a || stopped_) return;
    handle_alter_result(topic, partition, stamp, new_isr, result, shrink);
  });
}

void PartitionManager::handle_alter_result(const std::string& topic, int32_t partition,
                                           const Stamp& asked_for, std::vector<int32_t> proposed,
                                           const AdminResult& result, bool shrink) {
  // Counted here: the metadata log may bring the change before this answer.
  if (result.ok()) (shrink ? isr_shrinks_ : isr_expands_).inc();
  // Asked for one leadership of one partition object: a re-created topic or a
  // later leadership may be proposing the same ISR, and must not take this answer.
  Partition* p = find(topic, partition);
  if (!p || p->incarnation != asked_for.incarnation || p->leader_epoch != asked_for.leader_epoch)
    return;
  if (!p->alter_in_flight || p->proposed_isr != proposed) return;
  p->alter_in_flight = false;
  p->proposed_isr.clear();
  if (!result.ok()) {
    LOG_WARN("replica") << "ISR change of " << topic << "-" << partition
                        << " refused: " << (result.code.empty() ? "no answer" : result.code) << " "
                        << result.message;
    return;  // the next check retries with whatever the image says then
  }
  rapidjson::Document d;
  d.Parse(result.body.c_str());
  if (d.IsObject() && d.HasMember("partition_epoch") && d["partition_epoch"].IsInt() &&
      d.HasMember("isr") && d["isr"].IsArray()) {
    int32_t epoch = d["partition_epoch"].GetInt();
    if (epoch > p->partition_epoch) {
      p->partition_epoch = epoch;
      p->isr.clear();
      for (const auto& v : d["isr"].GetArray())
        if (v.IsInt()) p->isr.push_back(v.GetInt());
    }
  }
  maybe_advance_leader_high_watermark(*p);
  update_replication_metrics();
}

// ---- follower: fetchers ---------------------------------------------------------------

ReplicaFetcher& PartitionManager::fetcher_for(int32_t source) {
  auto image = view_.current();
  std::string host;
  uint16_t port = 0;
  if (auto b = image->brokers.find(cluster::BrokerId(source)); b != image->brokers.end()) {
    host = b->second.kafka_host;
    port = b->second.kafka_port;
  }
  auto it = fetchers_.find(source);
  if (it != fetchers_.end() && (it->second->host() != host || it->second->port() != port)) {
    it->second->stop();  // the broker re-registered elsewhere
    fetchers_.erase(it);
    it = fetchers_.end();
  }
  if (it == fetchers_.end()) {
    ReplicaFetcher::Hooks hooks;
    hooks.epoch_queries = [this, source] { return build_epoch_queries(source); };
    hooks.on_epochs = [this, source](const kafka::OffsetForLeaderEpochResponse& r) {
      handle_epoch_answers(source, r);
    };
    hooks.build_fetch = [this, source] { return build_replica_fetch(source); };
    hooks.on_disconnect = [this, source] {
      // The in-flight OffsetForLeaderEpoch is lost with the connection.
      for (auto& [topic, parts] : partitions_) {
        for (auto& [index, p] : parts) {
          if (p->epoch_query && p->epoch_query->source == source) p->epoch_query.reset();
          if (p->fetch && p->fetch->source == source) p->fetch.reset();
        }
      }
    };
    hooks.on_fetch = [this, source](kafka::FetchResponse& r, std::shared_ptr<const std::string>,
                                    std::function<void()> next) {
      handle_replica_fetch(source, r, std::move(next));
    };
    auto f = std::make_shared<ReplicaFetcher>(io_, options_.node_id, source, host, port,
                                              std::move(hooks));
    it = fetchers_.emplace(source, f).first;
    f->start();
  }
  return *it->second;
}

void PartitionManager::stop_idle_fetchers() {
  std::set<int32_t> used;
  for (auto& [topic, parts] : partitions_)
    for (auto& [index, p] : parts)
      if (p->follow != Follow::kNone) used.insert(p->fetch_source);
  for (auto it = fetchers_.begin(); it != fetchers_.end();) {
    if (used.count(it->first)) {
      ++it;
      continue;
    }
    it->second->stop();
    it = fetchers_.erase(it);
  }
}

kafka::OffsetForLeaderEpochRequest PartitionManager::build_epoch_queries(int32_t source) {
  kafka::OffsetForLeaderEpochRequest req;
  const int64_t now = steady_ms();
  for (auto& [topic, parts] : partitions_) {
    kafka::OffsetForLeaderEpochRequest::Topic t;
    t.topic = topic;
    for (auto& [index, ptr] : parts) {
      Partition& p = *ptr;
      if (p.follow != Follow::kTruncating || p.fetch_source != source || p.epoch_query ||
          p.retry_after_ms > now || !p.log)
        continue;
      auto latest = p.log->latest_epoch();
      if (!latest || p.log->log_end_offset() == p.log->log_start_offset()) {
        p.follow = Follow::kFetching;  // nothing that could diverge
        continue;
      }
      p.epoch_query = InFlight{source, p.stamp(), latest->value};
      t.partitions.push_back({.partition = p.index,
                              .current_leader_epoch = p.leader_epoch,
                              .leader_epoch = latest->value});
    }
    if (!t.partitions.empty()) req.topics.push_back(std::move(t));
  }
  return req;
}

void PartitionManager::handle_epoch_answers(int32_t source,
                                            const kafka::OffsetForLeaderEpochResponse& resp) {
  for (const auto& t : resp.topics) {
    for (const auto& r : t.partitions) {
      InFlight sent;
      Partition* p = answer_target(t.topic, r.partition, source, &Partition::epoch_query, &sent);
      if (!p || p->follow != Follow::kTruncating || p->fetch_source != source || !p->log) continue;
      if (r.error_code != ErrorCode::kNone) {
        p->retry_after_ms = steady_ms() + kRetryBackoffMs;  // e.g. the leader's image is behind
        continue;
      }
      store::Offset target;
      if (r.leader_epoch < 0 || r.end_offset < 0) {
        target = p->high_watermark;  // the leader knows none of our epochs: keep what is committed
      } else {
        target = store::Offset(r.end_offset);
        if (r.leader_epoch < sent.asked_epoch) {
          // KIP-279: the leader's largest epoch below ours; our own end for it may be smaller.
          auto mine = p->log->end_offset_for_epoch(store::LeaderEpoch(r.leader_epoch));
          if (mine.epoch.value == r.leader_epoch) target = std::min(target, mine.end_offset);
        }
      }
      truncate_follower(*p, target);
      p->follow = Follow::kFetching;
    }
  }
  // Partitions whose query went missing from the answer ask again.
  for (auto& [topic, parts] : partitions_)
    for (auto& [index, p] : parts)
      if (p->epoch_query && p->epoch_query->source == source) p->epoch_query.reset();
}

PartitionManager::Partition* PartitionManager::answer_target(
    const std::string& topic, int32_t index, int32_t source,
    std::optional<InFlight> Partition::*slot, InFlight* sent) {
  // An answer from `source` concerns the partition only if the request in
  // its slot went to `source` and nothing changed since it was built: not the
  // partition object, its log's bytes, nor the leader epoch.
  Partition* p = find(topic, index);
  if (!p || !(p->*slot) || (p->*slot)->source != source) return nullptr;
  *sent = *(p->*slot);
  (p->*slot).reset();
  return sent->stamp == p->stamp() ? p : nullptr;
}

void PartitionManager::truncate_follower(Partition& p, store::Offset target) {
  if (!p.log || target >= p.log->log_end_offset()) return;
  LOG_WARN("replica") << "truncating " << p.topic << "-" << p.index << " from "
                      << p.log->log_end_offset().value << " to " << target.value
                      << " (divergent tail)";
  auto s = p.log->truncate_to(target);
  after_truncation(p);  // a failed truncation may have cut part of the tail
  if (!s.ok()) {
    LOG_ERROR("replica") << "truncation of " << p.dir << " failed: " << s.message;
  }
}

void PartitionManager::after_truncation(Partition& p) {
  // Every completion started before this point names bytes that may be gone
  // (or replaced by later appends): the new stamp makes them no-ops.
  ++p.truncations;
  p.changes->fetch_add(1);
  fail_ack_waiters(p, ErrorCode::kNotLeaderOrFollower);
  p.epoch_query.reset();
  p.fetch.reset();
  const store::Offset end = p.log->log_end_offset();
  if (p.high_watermark > end) set_high_watermark(p, end);
  p.producers.truncate_from(end.value);
  p.txns.truncate_from(end.value);
  p.local_durable = std::min(p.local_durable, end);
  if (p.log_end_gauge) p.log_end_gauge->set(static_cast<double>(end.value));
}

kafka::FetchRequest PartitionManager::build_replica_fetch(int32_t source) {
  kafka::FetchRequest req;
  req.max_wait_ms = kReplicaFetchMaxWaitMs;
  req.min_bytes = 1;
  req.max_bytes = kReplicaResponseMaxBytes;
  const int64_t now = steady_ms();
  for (auto& [topic, parts] : partitions_) {
    kafka::FetchRequest::Topic t;
    t.topic = topic;
    for (auto& [index, ptr] : parts) {
      Partition& p = *ptr;
      if (p.follow != Follow::kFetching || p.fetch_source != source || !p.log || p.log->failure() ||
          p.retry_after_ms > now)
        continue;
      if (p.adding && !follower_throttle_.may_fetch(now)) {
        p.retry_after_ms = now + follower_throttle_.wait_ms(now);
        continue;
      }
      p.fetch = InFlight{source, p.stamp()};
      kafka::FetchRequest::Partition fp;
      fp.partition = p.index;
      fp.current_leader_epoch = p.leader_epoch;
      fp.fetch_offset = p.log->log_end_offset().value;
      fp.log_start_offset = p.log->log_start_offset().value;
      fp.partition_max_bytes = p.adding
                                   ? follower_throttle_.fetch_max_bytes(kReplicaPartitionMaxBytes)
                                   : kReplicaPartitionMaxBytes;
      t.partitions.push_back(fp);
    }
    if (!t.partitions.empty()) req.topics.push_back(std::move(t));
  }
  return req;
}

void PartitionManager::handle_replica_fetch(int32_t source, kafka::FetchResponse& resp,
                                            std::function<void()> next) {
  // The next fetch reports our log ends to the leader, so it waits until
  // everything appended here is durable: one group commit for all of them.
  auto pending = std::make_shared<int>(1);
  auto finish = [pending, next = std::move(next)] {
    if (--*pending == 0) next();
  };
  bool backoff = resp.error_code != ErrorCode::kNone;
  for (const auto& t : resp.responses) {
    for (const auto& r : t.partitions) {
      InFlight sent;
      Partition* p = answer_target(t.topic, r.partition_index, source, &Partition::fetch, &sent);
      if (!p || p->follow != Follow::kFetching || p->fetch_source != source || !p->log) continue;
      if (r.error_code != ErrorCode::kNone) {
        backoff = true;
        if (r.error_code == ErrorCode::kOffsetOutOfRange) {
          if (r.log_start_offset > p->log->log_end_offset().value) {
            // The leader deleted what we miss (retention): start at its log start.
            (void)p->log->truncate_to(store::Offset(r.log_start_offset));
            after_truncation(*p);
            set_high_watermark(*p, p->log->log_end_offset());
          } else {
            p->follow = Follow::kTruncating;  // we are ahead of the leader: find the divergence
          }
        } else {
          // NOT_LEADER, FENCED/UNKNOWN_LEADER_EPOCH...: wait for the metadata to agree.
          p->retry_after_ms = steady_ms() + kRetryBackoffMs;
        }
        continue;
      }
      if (p->adding && r.records.kind == kafka::Records::Kind::kBytes) {
        follower_throttle_.charge(static_cast<int64_t>(r.records.bytes.size()), steady_ms());
        throttled_bytes_.inc(static_cast<double>(r.records.bytes.size()));
      }
      if (!follower_append(*p, r)) continue;
      if (options_.log_flush_on_ack) {
        ++*pending;
        make_durable(*p, p->log->log_end_offset(),
                     [finish](Partition*, const store::LogStatus&) { finish(); });
      } else {
        note_local_durable(*p, p->log->log_end_offset());
      }
    }
  }
  if (backoff && *pending == 1) {
    // Errors only: do not spin against a leader that refuses.
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(50));
    timer->async_wait([timer, finish](const asio::error_code&) { finish(); });
    return;
  }
  finish();
}

bool PartitionManager::follower_append(Partition& p, const kafka::FetchResponse::Partition& data) {
  const store::Offset end_before = p.log->log_end_offset();
  if (data.records.kind == kafka::Records::Kind::kBytes && !data.records.bytes.empty()) {
    // A leader may cut the last batch short (KIP-74 limits); keep whole batches only.
    std::string_view bytes = data.records.bytes;
    size_t whole = 0;
    while (whole < bytes.size()) {
      kafka::BatchHeader h;
      if (kafka::read_batch_header(bytes.substr(whole), h) != kafka::BatchError::kOk) break;
      if (whole + h.total_size() > bytes.size()) break;
      whole += h.total_size();
    }
    if (whole > 0) {
      auto appended = p.log->append_as_follower(bytes.substr(0, whole), wall_ms());
      if (!appended.ok()) {
        if (appended.error() == store::LogError::kWriteFailed) {
          // Disk full or EIO (the log said so once): fetch again in a while
          // rather than spin; meanwhile the leader sees no progress and
          // shrinks this replica out of the ISR after replica.lag.time.max.ms.
          p.retry_after_ms = steady_ms() + kStorageRetryBackoffMs;
          return false;
        }
        LOG_WARN("replica") << "follower append to " << p.dir
                            << " refused: " << appended.status().message;
        if (appended.error() == store::LogError::kNonContiguous) p.follow = Follow::kTruncating;
        return false;
      }
      if (p.log_end_gauge)
        p.log_end_gauge->set(static_cast<double>(appended.value().log_end_offset.value));
      // Followers keep the producer state too, so a new leader knows the sequences.
      record_batches(bytes.substr(0, whole), wall_ms(), p.producers, 0, &p.txns);
    }
  }
  // The follower's high watermark: the leader's, bounded by what it holds.
  if (data.high_watermark >= 0) {
    store::Offset hw = std::min(store::Offset(data.high_watermark), p.log->log_end_offset());
    if (hw > p.high_watermark) set_high_watermark(p, hw);
  }
  // The leader's log start offset moved (DeleteRecords, retention): follow it
  // up to what this replica knows to be committed, as Kafka's followers do.
  if (data.log_start_offset > p.log->log_start_offset().value) {
    const store::Offset start = std::min(store::Offset(data.log_start_offset), p.high_watermark);
    if (start > p.log->log_start_offset()) (void)p.log->advance_log_start(start);
  }
  return p.log->log_end_offset() > end_before;
}

// ---- OffsetForLeaderEpoch ---------------------------------------------------------------

EpochEndOffset PartitionManager::end_offset_for_epoch(std::string_view topic, PartitionId partition,
                                                      store::LeaderEpoch current_leader_epoch,
                                                      store::LeaderEpoch leader_epoch) {
  EpochEndOffset out;
  if (ErrorCode e = check_leader(topic, partition.value); e != ErrorCode::kNone) {
    out.error = e;
    return out;
  }
  Partition* p = find(topic, partition.value);
  if (ErrorCode e = leader_epoch_error(*p, current_leader_epoch.value); e != ErrorCode::kNone) {
    out.error = e;
    return out;
  }
  auto e = p->log->end_offset_for_epoch(leader_epoch);
  out.leader_epoch = e.epoch;
  out.end_offset = e.end_offset;
  return out;
}

// ---- metrics -----------------------------------------------------------------------------

void PartitionManager::update_replication_metrics() {
  size_t led = 0, under = 0;
  for (auto& [topic, parts] : partitions_) {
    for (auto& [index, p] : parts) {
      if (!p->is_leader) continue;
      ++led;
      if (p->isr.size() < p->replicas.size()) ++under;
      auto& isr = metrics::registry().gauge(
          "dmq_broker_isr_size", "In-sync replicas of each partition led by this broker",
          {{"topic", p->topic}, {"partition", std::to_string(p->index)}});
      isr.set(static_cast<double>(p->isr.size()));
      int64_t lag = 0;
      const int64_t end = p->log ? p->log->log_end_offset().value : 0;
      for (const auto& [r, f] : p->followers)
        lag = std::max<int64_t>(lag, f.log_end < 0 ? end : end - f.log_end);
      metrics::registry()
          .gauge("dmq_broker_follower_max_lag_messages",
                 "Largest follower lag (offsets behind the leader's log end) per led partition",
                 {{"topic", p->topic}, {"partition", std::to_string(p->index)}})
          .set(static_cast<double>(lag));
    }
  }
  leader_partitions_gauge_.set(static_cast<double>(led));
  under_replicated_gauge_.set(static_cast<double>(under));
}

}  // namespace dmq::broker
