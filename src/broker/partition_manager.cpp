#include "broker/partition_manager.h"

#include "broker/clock.h"
#include "broker/log_cleaner_codec.h"

#include <chrono>
#include <filesystem>

#include "common/log.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/protocol/record_walk.h"

namespace dmq::broker {
namespace {

using kafka::ErrorCode;

ErrorCode to_kafka(store::LogError e) {
  switch (e) {
    case store::LogError::kOk:
      return ErrorCode::kNone;
    case store::LogError::kOffsetOutOfRange:
      return ErrorCode::kOffsetOutOfRange;
    case store::LogError::kCorruptBatch:
      return ErrorCode::kCorruptMessage;
    case store::LogError::kBatchTooLarge:
      return ErrorCode::kRecordListTooLarge;
    case store::LogError::kStorageFailed:
    case store::LogError::kWriteFailed:  // disk full or EIO, undone: retriable
      return ErrorCode::kKafkaStorageError;
    case store::LogError::kTruncated:  // lost leadership while waiting
    case store::LogError::kShuttingDown:
      return ErrorCode::kNotLeaderOrFollower;
    default:
      return ErrorCode::kUnknownServerError;
  }
}

int64_t config_int(const cluster::TopicState& topic, const std::string& name, int64_t fallback) {
  auto it = topic.configs.find(name);
  if (it == topic.configs.end()) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  return (end && *end == '\0') ? v : fallback;
}

bool hosts(const cluster::PartitionState& p, int32_t node) {
  for (auto r : p.replicas)
    if (r.value == node) return true;
  return false;
}

}  // namespace

PartitionManager::PartitionManager(asio::io_context& io, const Options& options, MetadataView& view,
                                   ControllerClient& controller, store::FileEnv& env)
    : io_(io),
      options_(options),
      view_(view),
      controller_(controller),
      env_(env),
      committer_(store::GroupCommitter::Options{.fsync_enabled = options.log_flush_on_ack,
                                                .metrics = &metrics::registry()}),
      background_("partition-housekeeping"),
      cleaner_({.enabled = options.log_cleaner_enable,
                .dedupe_buffer_bytes = static_cast<size_t>(options.log_cleaner_dedupe_buffer_size),
                .backoff_ms = options.log_cleaner_backoff_ms},
               kafka_record_codec(), [] { return wall_ms(); }),
      housekeeping_timer_(io),
      isr_timer_(io),
      producer_ids_(io, controller, view, options.node_id),
      completion_executor_([&io](std::function<void()> fn) { asio::post(io, std::move(fn)); }),
      partitions_gauge_(metrics::registry().gauge("dmq_broker_partitions",
                                                  "Partition replicas hosted by this broker")),
      commit_seconds_(metrics::registry().histogram(
          "dmq_broker_group_commit_seconds",
          "Time from append to durable (group commit, fsync included)",
          metrics::latency_buckets_seconds())),
      under_replicated_gauge_(metrics::registry().gauge(
          "dmq_broker_under_replicated_partitions",
          "Partitions led by this broker whose ISR is smaller than their replica set")),
      leader_partitions_gauge_(metrics::registry().gauge("dmq_broker_leader_partitions",
                                                         "Partitions led by this broker")),
      isr_shrinks_(metrics::registry().counter("dmq_broker_isr_shrinks_total",
                                               "ISR shrinks committed for partitions led here")),
      isr_expands_(metrics::registry().counter(
          "dmq_broker_isr_expands_total", "ISR expansions committed for partitions led here")) {}

PartitionManager::~PartitionManager() {
  stop();
  *alive_ = false;
}

std::string PartitionManager::start() {
  if (auto s = env_.create_dirs(logs_dir()); !s.ok()) return logs_dir() + ": " + s.message;
  // Leftovers of deletions interrupted by a crash.
  std::vector<std::string> names;
  if (env_.list(logs_dir(), &names).ok()) {
    for (const auto& n : names) {
      if (n.size() > 7 && n.compare(n.size() - 7, 7, "-delete") == 0) {
        std::string path = logs_dir() + "/" + n;
        background_.post([path] {
          std::error_code ec;
          std::filesystem::remove_all(path, ec);
        });
      }
    }
  }
  started_ = true;
  reconcile(*view_.current());
  std::weak_ptr<bool> alive = alive_;
  view_.on_change([this, alive](const Image& previous, const Image& next) {
    auto a = alive.lock();
    if (!a || !*a || stopped_) return;
    handle_metadata_change(previous, next);
  });
  schedule_housekeeping();
  schedule_isr_check();
  cleaner_.start();
  return "";
}

void PartitionManager::stop() {
  if (stopped_) return;
  stopped_ = true;
  housekeeping_timer_.cancel();
  isr_timer_.cancel();
  for (auto& [source, fetcher] : fetchers_) fetcher->stop();
  fetchers_.clear();
  for (auto& w : waiters_) {
    w->fired = true;
    w->timer.cancel();
  }
  waiters_.clear();
  for (auto& w : metadata_waiters_) {
    w->fired = true;
    w->timer.cancel();
  }
  metadata_waiters_.clear();
  committer_.stop();
  cleaner_.stop();
  for (auto& [topic, parts] : partitions_) {
    for (auto& [index, p] : parts) {
      fail_ack_waiters(*p, ErrorCode::kNotLeaderOrFollower);
      if (!p->log) continue;
      if (!options_.log_flush_on_ack) (void)p->log->flush();
      auto s = p->log->checkpoint(p->high_watermark);
      if (!s.ok()) {
        LOG_WARN("broker") << "checkpoint of " << p->dir << " failed: " << s.message;
      }
    }
  }
  background_.stop();
}

size_t PartitionManager::partition_count() const {
  size_t n = 0;
  for (auto& [t, parts] : partitions_) n += parts.size();
  return n;
}

PartitionManager::Partition* PartitionManager::find(std::string_view topic,
                                                    int32_t partition) const {
  auto it = partitions_.find(topic);
  if (it == partitions_.end()) return nullptr;
  auto pit = it->second.find(partition);
  return pit == it->second.end() ? nullptr : pit->second.get();
}

// ---- reconciliation ------------------------------------------------------------

void PartitionManager::handle_metadata_change(const Image& previous, const Image& next) {
  if (previous) {
    for (const auto& [name, topic] : previous->topics) {
      auto it = next->topics.find(name);
      if (it == next->topics.end() || it->second.topic_id != topic.topic_id) remove_topic(name);
    }
  }
  reconcile(*next);
  stop_idle_fetchers();
  check_metadata_waiters(*next);
}

void PartitionManager::reconcile(const cluster::MetadataImage& image) {
  for (const auto& [name, topic] : image.topics) {
    for (const auto& state : topic.partitions) {
      if (hosts(state, options_.node_id)) maybe_open(image, topic, state);
    }
  }
  partitions_gauge_.set(static_cast<double>(partition_count()));
}

store::PartitionLogConfig PartitionManager::log_config(const cluster::TopicState& topic) const {
  store::PartitionLogConfig c;
  c.segment_bytes = static_cast<uint64_t>(std::clamp<int64_t>(
      config_int(topic, "segment.bytes", options_.segment_bytes), 14, int64_t{1} << 31));
  c.segment_ms = config_int(topic, "segment.ms", options_.segment_ms);
  c.retention_ms = config_int(topic, "retention.ms", options_.retention_ms);
  c.retention_bytes = config_int(topic, "retention.bytes", options_.retention_bytes);
  auto policy = topic.configs.find("cleanup.policy");
  const std::string& p =
      policy == topic.configs.end() ? options_.log_cleanup_policy : policy->second;
  c.cleanup_compact = p.find("compact") != std::string::npos;
  c.cleanup_delete = p.find("delete") != std::string::npos;
  c.min_cleanable_dirty_ratio = options_.log_cleaner_min_cleanable_ratio;
  if (auto r = topic.configs.find("min.cleanable.dirty.ratio"); r != topic.configs.end()) {
    char* end = nullptr;
    double v = std::strtod(r->second.c_str(), &end);
    if (end && *end == '\0' && v >= 0 && v <= 1) c.min_cleanable_dirty_ratio = v;
  }
  c.delete_retention_ms =
      config_int(topic, "delete.retention.ms", options_.log_cleaner_delete_retention_ms);
  c.min_compaction_lag_ms =
      config_int(topic, "min.compaction.lag.ms", options_.log_cleaner_min_compaction_lag_ms);
  return c;
}

void PartitionManager::set_high_watermark(Partition& p, store::Offset offset) {
  p.high_watermark = offset;
  p.txns.advance(offset.value);
  if (p.log) p.log->note_high_watermark(offset);  // the cleaner stays below it
}

void PartitionManager::maybe_open(const cluster::MetadataImage& image,
                                  const cluster::TopicState& topic,
                                  const cluster::PartitionState& state) {
  Partition* p = find(topic.name, state.id.value);
  if (!p) {
    auto fresh = std::make_unique<Partition>();
    fresh->topic = topic.name;
    fresh->topic_id = topic.topic_id;
    fresh->index = state.id.value;
    fresh->incarnation = ++incarnations_;
    fresh->dir = logs_dir() + "/" + topic.name + "-" + std::to_string(state.id.value);
    auto opened = store::PartitionLog::open(env_, fresh->dir, log_config(topic), wall_ms());
    if (!opened.ok()) {
      // The replica stays listed without a log: requests get KAFKA_STORAGE_ERROR.
      LOG_ERROR("broker") << "cannot open " << fresh->dir << ": " << opened.status().message;
    } else {
      fresh->log = opened.value();
      // Idempotent producers' sequences survive restarts: they are in the log.
      auto rebuilt = rebuild_producer_state(*fresh->log, store::Offset(0), wall_ms(),
                                            fresh->producers, &fresh->txns);
      if (!rebuilt.ok()) {
        LOG_WARN("broker") << "producer state of " << fresh->dir
                           << " not rebuilt: " << rebuilt.status().message;
      }
      // Only what was known committed before the restart: the tail above it
      // may be a divergent suffix that truncation will remove.
      set_high_watermark(*fresh, fresh->log->checkpointed_high_watermark());
      cleaner_.add(fresh->log);
      fresh->local_durable = fresh->log->durable_end_offset();
    }
    fresh->log_end_gauge = &metrics::registry().gauge(
        "dmq_broker_log_end_offset", "Log end offset of each hosted partition",
        {{"topic", topic.name}, {"partition", std::to_string(state.id.value)}});
    p = fresh.get();
    partitions_[topic.name][state.id.value] = std::move(fresh);
    LOG_INFO("broker") << "hosting " << p->topic << "-" << p->index;
    if (p->log) sync_recovered_tail(*p);
  }
  // Until this incarnation is registered and unfenced, the image may be the
  // one from before a restart: lead nothing, follow nothing (KIP-631).
  const bool serving = serving_in(image);
  const bool leader = serving && state.leader.value == options_.node_id;
  const int32_t epoch = state.leader_epoch.value;
  const int32_t leader_id = serving ? state.leader.value : -1;
  if (leader && p->log && (!p->is_leader || p->leader_epoch != epoch)) {
    // KIP-101: a new leader epoch starts at the current log end.
    p->log->assign_epoch(store::LeaderEpoch(epoch), p->log->log_end_offset());
  }
  bool changed = leader != p->is_leader || epoch != p->leader_epoch || leader_id != p->leader_id;
  p->is_leader = leader;
  p->leader_epoch = epoch;
  p->produce_config = produce_config(topic);
  // Config changes reach the open log at once (retention, segment size,
  // cleanup policy), not only when it is next opened.
  if (p->log) {
    store::PartitionLogConfig config = log_config(topic);
    if (!(p->log->config() == config)) {
      p->log->set_config(config);
      LOG_INFO("broker") << p->topic << "-" << p->index << ": topic configs applied to the log";
      if (config.cleanup_compact) cleaner_.wake();
    }
  }
  update_replication_role(*p, state, leader_id, changed);
  if (p->log_end_gauge && p->log)
    p->log_end_gauge->set(static_cast<double>(p->log->log_end_offset().value));
  if (changed) {
    wake_waiters(*p);  // parked fetches re-check leadership
    wake_replica_waiters(*p);
  }
}

PartitionManager::ProduceConfig PartitionManager::produce_config(
    const cluster::TopicState& topic) const {
  ProduceConfig config;
  config.min_insync = config_int(topic, "min.insync.replicas", options_.min_insync_replicas);
  config.max_message_bytes = config_int(topic, "max.message.bytes", options_.message_max_bytes);
  if (config.max_message_bytes <= 0) config.max_message_bytes = options_.message_max_bytes;
  auto type = topic.configs.find("message.timestamp.type");
  config.log_append_time = type != topic.configs.end() && type->second == "LogAppendTime";
  auto policy = topic.configs.find("cleanup.policy");
  config.compacted = (policy == topic.configs.end() ? options_.log_cleanup_policy : policy->second)
                         .find("compact") != std::string::npos;
  return config;
}

void PartitionManager::sync_recovered_tail(Partition& p) {
  // After a process crash the tail past the recovery point may sit in the
  // page cache only: it counts toward the high watermark once fsynced.
  const store::Offset end = p.log->log_end_offset();
  if (p.local_durable >= end) return;
  if (!options_.log_flush_on_ack) {
    p.local_durable = end;
    return;
  }
  make_durable(p, end, [](Partition*, const store::LogStatus&) {});
}

void PartitionManager::make_durable(Partition& p, store::Offset end, DurableDone done) {
  // The answer says "the bytes below `end` that the log held when the flush
  // began are on disk". Only while the log still holds those bytes (same
  // object, no truncation since) may it raise local_durable.
  const auto started = std::chrono::steady_clock::now();
  std::weak_ptr<bool> alive = alive_;
  committer_.request_durable(
      p.log, end, completion_executor_,
      [this, alive, topic = p.topic, index = p.index, stamp = p.stamp(), end, started,
       done = std::move(done)](const store::LogStatus& status) {
        auto a = alive.lock();
        Partition* q = a && *a ? find(topic, index) : nullptr;
        if (q && !q->stamp().same_log(stamp)) q = nullptr;
        if (q) {
          commit_seconds_.observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
          if (status.ok()) note_local_durable(*q, end);
        }
        done(q, status);
      });
}

kafka::ErrorCode PartitionManager::leader_epoch_error(const Partition& p,
                                                      int32_t current_leader_epoch) {
  // KIP-320: -1 skips the check; an older epoch is a deposed view, a newer
  // one means this broker has not seen the change yet.
  if (current_leader_epoch < 0 || current_leader_epoch == p.leader_epoch) return ErrorCode::kNone;
  return current_leader_epoch < p.leader_epoch ? ErrorCode::kFencedLeaderEpoch
                                               : ErrorCode::kUnknownLeaderEpoch;
}

bool PartitionManager::serving_in(const cluster::MetadataImage& image) const {
  const std::string incarnation = view_.local_incarnation();
  if (incarnation.empty()) return true;  // no registration to wait for (tests)
  auto it = image.brokers.find(cluster::BrokerId(options_.node_id));
  return it != image.brokers.end() && it->second.incarnation_id == incarnation &&
         !it->second.fenced;
}

void PartitionManager::remove_topic(const std::string& topic) {
  auto it = partitions_.find(topic);
  if (it == partitions_.end()) return;
  auto parts = std::move(it->second);
  partitions_.erase(it);
  for (auto& [index, p] : parts) {
    wake_waiters(*p);
    wake_replica_waiters(*p);
    fail_ack_waiters(*p, ErrorCode::kUnknownTopicOrPartition);
    p->changes->fetch_add(1);
    p->log.reset();
    // Rename now so a topic re-created under the same name gets a fresh
    // directory; delete the files off the loop (Kafka's "-delete" suffix).
    std::string doomed = p->dir + "." + std::to_string(++delete_counter_) + "-delete";
    std::error_code ec;
    std::filesystem::rename(p->dir, doomed, ec);
    if (ec) {
      LOG_WARN("broker") << "cannot rename " << p->dir << " for deletion: " << ec.message();
      continue;
    }
    background_.post([doomed] {
      std::error_code e;
      std::filesystem::remove_all(doomed, e);
    });
    LOG_INFO("broker") << "deleted " << p->topic << "-" << p->index;
  }
  partitions_gauge_.set(static_cast<double>(partition_count()));
}

// ---- produce and fetch ---------------------------------------------------------

kafka::ErrorCode PartitionManager::check_leader(std::string_view topic, int32_t partition) const {
  Partition* p = find(topic, partition);
  if (!p) {
    // Known topic but not hosted here means another broker leads it.
    auto image = view_.current();
    auto it = image->topics.find(topic);
    if (it == image->topics.end() || partition < 0 ||
        partition >= static_cast<int32_t>(it->second.partitions.size()))
      return ErrorCode::kUnknownTopicOrPartition;
    return ErrorCode::kNotLeaderOrFollower;
  }
  if (!p->is_leader) return ErrorCode::kNotLeaderOrFollower;
  if (!p->log || p->log->failure()) return ErrorCode::kKafkaStorageError;
  return ErrorCode::kNone;
}

ProduceTarget PartitionManager::produce_target(std::string_view topic, PartitionId partition,
                                               Acks acks) const {
  if (ErrorCode e = check_leader(topic, partition.value); e != ErrorCode::kNone) return {e, 0};
  const Partition& p = *find(topic, partition.value);
  // acks=all needs min.insync.replicas in the ISR before the append
  // (Partition.appendRecordsToLeader); nothing is written otherwise.
  if (acks == Acks::kAll && static_cast<int64_t>(p.isr.size()) < p.produce_config.min_insync) {
    return {ErrorCode::kNotEnoughReplicas, 0};
  }
  return {ErrorCode::kNone, p.produce_config.max_message_bytes};
}

void PartitionManager::produce(std::string_view topic, PartitionId partition,
                               const ValidatedBatch& batch, Acks acks,
                               std::function<void(const ProduceResult&)> done) {
  // produce_target checked leadership in this loop turn; the state cannot
  // have moved since, but a wrong caller must not write to a follower.
  Partition* p = find(topic, partition.value);
  if (!p || !p->is_leader || !p->log) {
    done({ErrorCode::kNotLeaderOrFollower});
    return;
  }
  if (batch.header.is_transactional()) {
    done({ErrorCode::kTransactionalIdAuthorizationFailed});  // only with a transactional id
    return;
  }
  append_admitted(*p, batch, acks, std::move(done));
}

void PartitionManager::append_admitted(Partition& p, const ValidatedBatch& batch, Acks acks,
                                       std::function<void(const ProduceResult&)> done,
                                       bool sequenced) {
  if (p.produce_config.compacted) {
    if (ErrorCode e = check_keys(batch.bytes); e != ErrorCode::kNone) {
      done({e});
      return;
    }
  }
  const int64_t now = wall_ms();
  kafka::BatchHeader header = batch.header;
  const int64_t append_time = stamp_batch(p, batch.bytes, header, now);
  std::optional<BatchIdentity> identity;
  if (header.producer_id >= 0) {
    identity = batch_identity(header);
    if (sequenced && !admit_idempotent(p, *identity, append_time, done)) return;
  }
  auto appended = append_to_log(p, batch.bytes, header, now);
  if (!appended.ok()) {
    done({to_kafka(appended.error())});
    return;
  }
  const store::AppendInfo info = appended.value();
  if (identity) {
    identity->base_offset = info.base_offset.value;
    identity->last_offset = info.last_offset.value;
    p.producers.record(*identity, now);
    if (header.is_transactional()) {
      p.txns.on_data(header.producer_id, header.producer_epoch, info.base_offset.value);
    }
  }
  await_acknowledgement(p, info, append_time, acks, batch.timed, std::move(done));
}

kafka::ErrorCode PartitionManager::check_keys(std::span<const char> bytes) {
  // Kafka refuses a record without a key in a compacted topic
  // (LogValidator: "Compacted topic cannot accept message without key"):
  // the cleaner could never tell which value is the latest.
  bool keyless = false;
  kafka::RecordWalk walk = kafka::walk_records(std::string_view(bytes.data(), bytes.size()), 0,
                                               [&](const kafka::RecordInLog& r) {
                                                 keyless = !r.record.key;
                                                 return !keyless;
                                               });
  if (walk.error != kafka::BatchError::kOk) return kafka::to_error_code(walk.error);
  return keyless ? ErrorCode::kInvalidRecord : ErrorCode::kNone;
}

int64_t PartitionManager::stamp_batch(const Partition& p, std::span<char> bytes,
                                      kafka::BatchHeader& header, int64_t now) {
  kafka::set_partition_leader_epoch(bytes.data(), p.leader_epoch);
  header.partition_leader_epoch = p.leader_epoch;
  if (!p.produce_config.log_append_time) return -1;
  // The only case where the broker rewrites more than the offset (and the CRC).
  kafka::set_log_append_time(bytes.data(), bytes.size(), now);
  header.max_timestamp = now;
  return now;
}

bool PartitionManager::admit_idempotent(Partition& p, const BatchIdentity& identity,
                                        int64_t append_time,
                                        std::function<void(const ProduceResult&)>& done) {
  // Idempotence (KIP-98): a retried batch is answered, not appended twice.
  SequenceCheck verdict = p.producers.check(identity);
  if (verdict.verdict == SequenceVerdict::kAppend) return true;
  if (verdict.verdict == SequenceVerdict::kDuplicate) {
    answer_duplicate(p, verdict, append_time, std::move(done));
    return false;
  }
  const auto* entry = p.producers.find(identity.producer_id);
  LOG_WARN("broker") << p.topic << "-" << p.index << ": producer " << identity.producer_id
                     << " epoch " << identity.producer_epoch << " sent sequences "
                     << identity.base_sequence << ".." << identity.last_sequence
                     << (verdict.verdict == SequenceVerdict::kOutOfOrder ? " out of order"
                                                                         : " with an old epoch")
                     << "; known: "
                     << (entry
                             ? "epoch " + std::to_string(entry->epoch) + ", last sequence " +
                                   std::to_string(entry->batches.back().last_sequence) +
                                   " at offset " + std::to_string(entry->batches.back().last_offset)
                             : std::string("nothing"));
  done({to_error_code(verdict.verdict)});
  return false;
}

store::LogResult<store::AppendInfo> PartitionManager::append_to_log(Partition& p,
                                                                    std::span<char> bytes,
                                                                    const kafka::BatchHeader& h,
                                                                    int64_t now) {
  store::BatchInfo framing{store::Offset(h.base_offset), store::Offset(h.last_offset()),
                           h.max_timestamp, h.partition_leader_epoch,
                           static_cast<uint32_t>(bytes.size())};
  auto appended = p.log->append_batch(bytes, framing, now);
  if (!appended.ok()) {
    LOG_WARN("broker") << "append to " << p.dir << " failed: " << appended.status().message;
    return appended;
  }
  if (p.log_end_gauge) {
    p.log_end_gauge->set(static_cast<double>(appended.value().log_end_offset.value));
  }
  wake_replica_waiters(p);  // followers parked at the old log end
  return appended;
}

void PartitionManager::await_acknowledgement(Partition& p, const store::AppendInfo& info,
                                             int64_t append_time, Acks acks, bool timed,
                                             std::function<void(const ProduceResult&)> done) {
  // One answer, from whichever condition the acks ask for: acks=1 the local
  // group commit, acks=all the high watermark (which includes it).
  const store::Offset log_start = p.log->log_start_offset();
  // Tracing: when the group commit covered the batch. The high watermark may
  // move (and answer) in the same completion, before its callback below runs.
  auto durable_at = timed && options_.log_flush_on_ack ? std::make_shared<int64_t>(0) : nullptr;
  auto answer = [base = info.base_offset, log_start, append_time, durable_at,
                 done = std::move(done)](ErrorCode e) {
    if (e != ErrorCode::kNone) {
      done({e});
      return;
    }
    const int64_t durable = !durable_at ? 0 : *durable_at > 0 ? *durable_at : unix_now_ns();
    done({ErrorCode::kNone, base, log_start, append_time, durable});
  };
  std::function<void(ErrorCode)> on_durable;
  if (acks == Acks::kAll) {
    p.ack_waiters.emplace(info.log_end_offset.value, std::move(answer));
  } else {
    on_durable = std::move(answer);
  }
  if (!options_.log_flush_on_ack) {
    note_local_durable(p, info.log_end_offset);
    if (on_durable) on_durable(ErrorCode::kNone);
    return;
  }
  // Acknowledged means on disk: answer from the group commit's callback, and
  // only under the leadership that accepted the batch (its bytes may be gone
  // after a truncation, or no longer this leader's to vouch for).
  make_durable(p, info.log_end_offset,
               [this, epoch = p.leader_epoch, on_durable = std::move(on_durable), durable_at](
                   Partition* q, const store::LogStatus& status) {
                 if (durable_at && *durable_at == 0) *durable_at = unix_now_ns();
                 const bool same = q && q->is_leader && q->leader_epoch == epoch;
                 if (!status.ok()) {
                   if (q) fail_ack_waiters(*q, to_kafka(status.code));  // the log is closed
                   if (on_durable) on_durable(to_kafka(status.code));
                 } else if (on_durable) {
                   on_durable(same ? ErrorCode::kNone : ErrorCode::kNotLeaderOrFollower);
                 }
               });
}

void PartitionManager::answer_duplicate(Partition& p, const SequenceCheck& original,
                                        int64_t append_time,
                                        std::function<void(const ProduceResult&)> done) {
  // The original may still be on its way to the ISR: answer when it is
  // committed, with its offsets (and with an error if it never is).
  const store::Offset log_start = p.log->log_start_offset();
  const store::Offset base(original.base_offset);
  const int64_t ts = append_time >= 0 ? original.max_timestamp : -1;
  auto answer = [done = std::move(done), base, log_start, ts](ErrorCode e) {
    if (e != ErrorCode::kNone) {
      done({e});
      return;
    }
    done({ErrorCode::kNone, base, log_start, ts});
  };
  const int64_t end = original.last_offset + 1;
  if (end <= p.high_watermark.value) {
    answer(ErrorCode::kNone);
    return;
  }
  p.ack_waiters.emplace(end, std::move(answer));
}

void PartitionManager::note_local_durable(Partition& p, store::Offset durable_end) {
  // Callers vouch for bytes the log still holds (make_durable checks the
  // stamp); the log end bounds it all the same.
  const store::Offset bounded = std::min(durable_end, p.log->log_end_offset());
  if (bounded > p.local_durable) p.local_durable = bounded;
  if (p.is_leader) maybe_advance_leader_high_watermark(p);
}

void PartitionManager::advance_high_watermark(Partition& p, store::Offset offset) {
  if (offset <= p.high_watermark) return;  // never moves backwards
  set_high_watermark(p, offset);
  wake_waiters(p);
  // acks=all: every batch ending at or below the high watermark is on every
  // ISR member; if the ISR shrank below min.insync.replicas meanwhile, the
  // batch is committed but not as durable as asked (Kafka's answer).
  const ErrorCode verdict = static_cast<int64_t>(p.isr.size()) < p.produce_config.min_insync
                                ? ErrorCode::kNotEnoughReplicasAfterAppend
                                : ErrorCode::kNone;
  while (!p.ack_waiters.empty() && p.ack_waiters.begin()->first <= offset.value) {
    auto fn = std::move(p.ack_waiters.begin()->second);
    p.ack_waiters.erase(p.ack_waiters.begin());
    fn(verdict);
  }
}

void PartitionManager::fail_ack_waiters(Partition& p, ErrorCode error) {
  auto waiters = std::move(p.ack_waiters);
  p.ack_waiters.clear();
  for (auto& [offset, fn] : waiters) fn(error);
}

FetchRead PartitionManager::fetch(std::string_view topic, PartitionId partition,
                                  store::Offset offset, uint32_t max_bytes, BrokerId replica,
                                  store::LeaderEpoch current_leader_epoch) {
  return read(topic, partition, offset, max_bytes, replica, current_leader_epoch, false);
}

FetchRead PartitionManager::read(std::string_view topic, PartitionId partition,
                                 store::Offset offset, uint32_t max_bytes, BrokerId replica,
                                 store::LeaderEpoch current_leader_epoch, bool read_committed) {
  FetchRead out;
  const int32_t replica_id = replica.value;
  Partition* p = find(topic, partition.value);
  if (!p) {
    out.error = check_leader(topic, partition.value);
    return out;
  }
  if (!p->is_leader) {
    out.error = ErrorCode::kNotLeaderOrFollower;  // consumers and followers fetch from the leader
    return out;
  }
  if (!p->log) {
    out.error = ErrorCode::kKafkaStorageError;
    return out;
  }
  if (ErrorCode e = leader_epoch_error(*p, current_leader_epoch.value); e != ErrorCode::kNone) {
    out.error = e;
    return out;
  }
  if (replica_id >= 0) {
    if (std::find(p->replicas.begin(), p->replicas.end(), replica_id) == p->replicas.end()) {
      out.error = ErrorCode::kNotLeaderOrFollower;  // not a replica of this partition (any more)
      return out;
    }
    record_follower_fetch(*p, replica_id, offset.value);
  }
  out.high_watermark = p->high_watermark;
  out.last_stable_offset = store::Offset(p->txns.last_stable_offset(p->high_watermark.value));
  // Consumers see only what is acknowledged (read_committed: only what is
  // decided); followers read to the log end.
  store::Offset limit = replica_id >= 0  ? store::Offset(INT64_MAX)
                        : read_committed ? out.last_stable_offset
                                         : p->high_watermark;
  auto read = p->log->read(offset, max_bytes, limit);
  out.log_start_offset = p->log->log_start_offset();
  if (!read.ok()) {
    out.error = to_kafka(read.error());
    return out;
  }
  const store::FileSlice& slice = read.value().slice;
  if (slice.length == 0) return out;
  RecordChunk chunk;
  chunk.fd = slice.fd();
  chunk.position = slice.position;
  chunk.length = static_cast<uint32_t>(slice.length);
  chunk.keep = slice.file;
  if (chunk.fd < 0) {
    if (!store::PartitionLog::read_into(slice, &chunk.bytes).ok() ||
        chunk.bytes.size() != slice.length) {
      out.error = ErrorCode::kKafkaStorageError;
      return out;
    }
  }
  out.records = std::move(chunk);
  return out;
}

// ---- parked requests -------------------------------------------------------------

void PartitionManager::park(const std::vector<TopicPartition>& partitions,
                            std::chrono::milliseconds timeout, BrokerId replica,
                            std::function<void()> wake) {
  const bool follower = replica.value >= 0;
  // After stop() the connections are closed: a parked request has nobody to
  // answer, and waking it would only make it park again.
  if (stopped_) return;
  auto w = std::make_shared<Waiter>(io_);
  w->wake = std::move(wake);
  w->replica = replica.value;
  for (const auto& tp : partitions) {
    Partition* p = find(tp.topic, tp.partition.value);
    if (!p) continue;
    auto& list = follower ? p->replica_waiters : p->waiters;
    // Waiters that timed out leave expired entries behind; drop them now and then.
    if (list.size() >= 64)
      std::erase_if(list, [](const std::weak_ptr<Waiter>& x) { return x.expired(); });
    list.push_back(w);
  }
  waiters_.insert(w);
  w->timer.expires_after(timeout);
  w->timer.async_wait([this, w, alive = std::weak_ptr<bool>(alive_)](const asio::error_code&) {
    auto a = alive.lock();
    if (!a || !*a || w->fired) return;
    fire(w);
  });
}

void PartitionManager::fire(const WaiterPtr& w) {
  if (w->fired) return;
  w->fired = true;
  w->timer.cancel();
  waiters_.erase(w);
  // Posted, not called: the waker may be inside an append or a reconcile.
  if (w->wake) asio::post(io_, std::move(w->wake));
}

void PartitionManager::wake_waiters(Partition& p) {
  auto waiters = std::move(p.waiters);
  p.waiters.clear();
  for (auto& weak : waiters)
    if (auto w = weak.lock()) fire(w);
}

void PartitionManager::wake_replica_waiters(Partition& p) {
  auto waiters = std::move(p.replica_waiters);
  p.replica_waiters.clear();
  for (auto& weak : waiters)
    if (auto w = weak.lock()) fire(w);
}

void PartitionManager::wake_fetches_of(int32_t replica) {
  std::vector<WaiterPtr> matching;
  for (const auto& w : waiters_)
    if (w->replica == replica) matching.push_back(w);
  for (const auto& w : matching) fire(w);
}

void PartitionManager::wait_for_metadata(std::function<bool(const cluster::MetadataImage&)> holds,
                                         std::chrono::milliseconds timeout,
                                         std::function<void(bool)> done) {
  if (stopped_ || holds(*view_.current())) {
    asio::post(io_, [done = std::move(done), ok = !stopped_] { done(ok); });
    return;
  }
  auto w = std::make_shared<Waiter>(io_);
  w->holds = std::move(holds);
  w->done = std::move(done);
  metadata_waiters_.insert(w);
  w->timer.expires_after(timeout);
  w->timer.async_wait([this, w, alive = std::weak_ptr<bool>(alive_)](const asio::error_code&) {
    auto a = alive.lock();
    if (!a || !*a || w->fired) return;
    w->fired = true;
    metadata_waiters_.erase(w);
    w->done(false);
  });
}

void PartitionManager::check_metadata_waiters(const cluster::MetadataImage& image) {
  std::vector<WaiterPtr> ready;
  for (const auto& w : metadata_waiters_)
    if (!w->fired && w->holds(image)) ready.push_back(w);
  for (auto& w : ready) {
    w->fired = true;
    w->timer.cancel();
    metadata_waiters_.erase(w);
    asio::post(io_, [done = std::move(w->done)] { done(true); });
  }
}

// ---- offsets -----------------------------------------------------------------------

namespace {

// The first record of `batch` (whole batch bytes) with a timestamp >= `target`:
// ListOffsets answers with a record offset, the log index only finds the batch.
std::optional<std::pair<int64_t, int64_t>> first_record_at(std::string_view batch, int64_t target) {
  kafka::BatchHeader h;
  if (kafka::read_batch_header(batch, h) != kafka::BatchError::kOk) return std::nullopt;
  if (h.is_log_append_time()) return std::make_pair(h.base_offset, h.max_timestamp);
  std::string payload;
  if (kafka::decompress_records(batch.substr(0, h.total_size()), payload) != kafka::BatchError::kOk)
    return std::nullopt;
  kafka::RecordIterator it(payload, h.record_count);
  kafka::Record r;
  while (it.next(r)) {
    int64_t ts = h.base_timestamp + r.timestamp_delta;
    if (ts >= target) return std::make_pair(h.base_offset + r.offset_delta, ts);
  }
  return std::nullopt;
}

}  // namespace

OffsetLookup PartitionManager::delete_records(std::string_view topic, PartitionId partition,
                                              int64_t offset) {
  OffsetLookup out;
  if (ErrorCode e = check_leader(topic, partition.value); e != ErrorCode::kNone) {
    out.error = e;
    return out;
  }
  Partition* p = find(topic, partition.value);
  // Kafka: -1 means the high watermark; nothing past it may go (a consumer
  // could not have read it, and a new leader may not hold it).
  const store::Offset target = offset == -1 ? p->high_watermark : store::Offset(offset);
  if (offset < -1 || target > p->high_watermark) {
    out.error = ErrorCode::kOffsetOutOfRange;
    return out;
  }
  auto moved = p->log->advance_log_start(target);
  if (!moved.ok()) {
    out.error = to_kafka(moved.error());
    return out;
  }
  LOG_INFO("broker") << p->topic << "-" << p->index << ": records before " << moved.value().value
                     << " deleted (DeleteRecords)";
  out.offset = moved.value();
  return out;
}

OffsetLookup PartitionManager::list_offset(std::string_view topic, PartitionId partition,
                                           int64_t timestamp) {
  OffsetLookup out;
  if (ErrorCode e = check_leader(topic, partition.value); e != ErrorCode::kNone) {
    out.error = e;
    return out;
  }
  Partition* p = find(topic, partition.value);
  out.leader_epoch = store::LeaderEpoch(p->leader_epoch);
  if (timestamp == -2) {
    out.offset = p->log->log_start_offset();
    return out;
  }
  if (timestamp == -1) {
    out.offset = p->high_watermark;  // consumers see up to the high watermark
    return out;
  }
  if (timestamp < 0) {
    out.error = ErrorCode::kInvalidRequest;  // -3 (max timestamp, v7+) is not served
    return out;
  }
  auto found = p->log->offset_for_timestamp(timestamp);
  if (!found.ok()) {
    out.error = to_kafka(found.error());
    return out;
  }
  if (!found.value() || found.value()->offset >= p->high_watermark) return out;  // none: -1/-1
  auto read = p->log->read(found.value()->offset, 1, p->high_watermark);
  std::string bytes;
  if (read.ok() && read.value().slice.length > 0 &&
      store::PartitionLog::read_into(read.value().slice, &bytes).ok()) {
    if (auto hit = first_record_at(bytes, timestamp)) {
      out.offset = store::Offset(hit->first);
      out.timestamp = hit->second;
      return out;
    }
  }
  // Fall back to the batch the time index found.
  out.offset = found.value()->offset;
  out.timestamp = found.value()->timestamp_ms;
  return out;
}

// ---- housekeeping ------------------------------------------------------------------

void PartitionManager::schedule_housekeeping() {
  housekeeping_timer_.expires_after(housekeeping_);
  housekeeping_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const asio::error_code& ec) {
        auto a = alive.lock();
        if (ec || !a || !*a || stopped_) return;
        run_housekeeping();
        schedule_housekeeping();
      });
}

void PartitionManager::run_housekeeping() {
  // Retention unlinks files and checkpoints fsync: both go to the background
  // thread with the values they need from the loop.
  const int64_t now = wall_ms();
  for (auto& [topic, parts] : partitions_) {
    for (auto& [index, p] : parts) {
      if (!p->log) continue;
      p->producers.expire(now, options_.producer_id_expiration_ms);
      auto log = p->log;
      store::Offset hw = p->high_watermark;
      const uint64_t seen = p->changes->load();
      background_.post([log, hw, now, changes = p->changes, seen] {
        // Deleted meanwhile (its directory is going away), or truncated (`hw`
        // may name bytes the log no longer holds): the next round decides.
        if (changes->load() != seen) return;
        auto removed = log->maybe_apply_retention(now);
        if (!removed.ok()) {
          LOG_WARN("broker") << "retention on " << log->dir() << ": " << removed.status().message;
        }
        auto s = log->checkpoint(hw);
        if (!s.ok()) {
          LOG_WARN("broker") << "checkpoint of " << log->dir() << ": " << s.message;
        }
      });
    }
  }
}

}  // namespace dmq::broker
