// The share coordinator's core: lookup, acknowledgements, persistence into
// __share_group_state, timers, metrics and the REST view. Fetch is in
// share_coordinator_fetch.cpp, dead letters in share_coordinator_dlq.cpp,
// leadership and loading in share_coordinator_load.cpp.
#include "group/share_coordinator.h"

#include <charconv>
#include <cstdio>

#include "common/assert.h"
#include "common/log.h"
#include "common/metrics.h"
#include "group/internal_topic.h"
#include "group/records.h"
#include "group/share_coordinator_internal.h"
#include "group/share_records.h"
#include "kafka/protocol/record_batch.h"

namespace dmq::group {

const char* share_error_name(ShareError e) {
  switch (e) {
    case ShareError::kNone:
      return "none";
    case ShareError::kNotCoordinator:
      return "not_coordinator";
    case ShareError::kLoadInProgress:
      return "coordinator_load_in_progress";
    case ShareError::kCoordinatorNotAvailable:
      return "coordinator_not_available";
    case ShareError::kInvalidRequest:
      return "invalid_request";
    case ShareError::kUnknownTopic:
      return "unknown_topic";
    case ShareError::kUnknownGroup:
      return "unknown_group";
    case ShareError::kNotDelivered:
      return "record_not_delivered";
    case ShareError::kNotInFlight:
      return "record_not_in_flight";
    case ShareError::kWrongMember:
      return "record_locked_by_another_member";
    case ShareError::kNonEmptyGroup:
      return "non_empty_group";
  }
  return "unknown";
}

namespace {

int64_t config_int(const cluster::ConfigMap& configs, const char* name, int64_t fallback,
                   int64_t min) {
  auto it = configs.find(name);
  if (it == configs.end()) return fallback;
  int64_t v = 0;
  const auto& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // Validated when the topic is created (cluster/validation); a value that
  // slipped through falls back to the default rather than stopping delivery.
  if (ec != std::errc() || end != s.data() + s.size() || v < min) return fallback;
  return v;
}

}  // namespace

ShareConfig ShareCoordinator::config_of(const cluster::ConfigMap& configs) {
  ShareConfig c;
  c.delivery_count_limit =
      static_cast<int32_t>(config_int(configs, "share.delivery.count.limit", 5, 1));
  c.lock_duration_ms = config_int(configs, "share.record.lock.duration.ms", 30000, 1);
  c.retry_backoff_ms = config_int(configs, "share.retry.backoff.ms", 0, 0);
  c.retry_backoff_max_ms = config_int(configs, "share.retry.backoff.max.ms",
                                      std::max<int64_t>(c.retry_backoff_ms, 0), 0);
  c.partition_limit =
      static_cast<int32_t>(config_int(configs, "share.record.lock.partition.limit", 200, 1));
  auto dlq = configs.find("share.dead.letter.topic");
  c.dead_letter = dlq != configs.end() && !dlq->second.empty();
  return c;
}

ShareCoordinator::ShareCoordinator(asio::io_context& io, const Options& options,
                                   broker::Backend& backend, ShareIo& share_io,
                                   broker::MetadataView& view, broker::ControllerClient& controller)
    : io_(io),
      options_(options),
      backend_(backend),
      share_io_(share_io),
      view_(view),
      controller_(controller),
      tick_timer_(io),
      rng_(std::random_device{}()) {
  loads_total_ = &metrics::registry().counter(
      "dmq_share_state_partition_loads_total",
      "__share_group_state partitions loaded after becoming their leader.");
  state_writes_total_ = &metrics::registry().counter(
      "dmq_share_state_writes_total",
      "Appends (acks=all) of share-partition state to __share_group_state.");
  state_changes_total_ = &metrics::registry().counter(
      "dmq_share_state_changes_total",
      "Fetches, acknowledgements and other changes those appends made durable; over "
      "dmq_share_state_writes_total, how many one append carries.");
}

ShareCoordinator::~ShareCoordinator() {
  *alive_ = false;
  stop();
}

void ShareCoordinator::start() {
  DMQ_ASSERT(!started_);
  started_ = true;
  std::weak_ptr<bool> alive = alive_;
  view_.on_change(
      [this, alive](const broker::MetadataView::Image&, const broker::MetadataView::Image& next) {
        auto a = alive.lock();
        if (!a || !*a || stopped_) return;
        handle_metadata_change(*next);
      });
  handle_metadata_change(*view_.current());
  schedule_tick();
}

void ShareCoordinator::stop() {
  if (stopped_) return;
  stopped_ = true;
  tick_timer_.cancel();
  auto parked = std::move(fetches_);
  fetches_.clear();
  for (const auto& op : parked) answer_fetch(*op, ShareError::kNotCoordinator, "shutting down");
  std::vector<PersistDone> waiting;
  for (auto& [p, slot] : slots_) {
    for (auto& done : slot.writes.take_pending().waiters) waiting.push_back(std::move(done));
  }
  groups_.clear();
  slots_.clear();
  for (const auto& done : waiting) done(ShareError::kNotCoordinator);
}

int64_t ShareCoordinator::now_ms() const {
  // Wall clock: lock deadlines are persisted and read by the next
  // coordinator, another process.
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ShareCoordinator::new_member_id() {
  uint64_t a = rng_(), b = rng_();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

// ---- groups ----------------------------------------------------------------------

ShareError ShareCoordinator::check_group(const std::string& group_id, int32_t* partition) const {
  if (group_id.empty()) return ShareError::kInvalidRequest;
  if (stopped_) return ShareError::kNotCoordinator;
  auto image = backend_.metadata();
  auto it = image->topics.find(kShareStateTopic);
  if (it == image->topics.end() || it->second.partitions.empty())
    return ShareError::kCoordinatorNotAvailable;
  int32_t p = partition_for(group_id, static_cast<int32_t>(it->second.partitions.size()));
  if (partition) *partition = p;
  auto slot = slots_.find(p);
  if (slot == slots_.end()) return ShareError::kNotCoordinator;
  if (slot->second.status == SlotStatus::kLoading) return ShareError::kLoadInProgress;
  return ShareError::kNone;
}

ShareError ShareCoordinator::status_of(const std::string& group_id) const {
  return check_group(group_id, nullptr);
}

ShareCoordinator::GroupEntry* ShareCoordinator::find(const std::string& group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

ShareCoordinator::GroupEntry& ShareCoordinator::group_entry(const std::string& group_id,
                                                            int32_t partition) {
  auto it = groups_.find(group_id);
  if (it != groups_.end()) return it->second;
  GroupEntry g;
  g.state_partition = partition;
  auto& r = metrics::registry();
  metrics::Labels labels{{"group", group_id}};
  g.in_flight =
      &r.gauge("dmq_share_group_in_flight", "Records locked by share-group members.", labels);
  g.redeliveries = &r.counter("dmq_share_group_redeliveries_total",
                              "Records delivered again after a release or lock expiry.", labels);
  g.dead_lettered = &r.counter("dmq_share_group_dead_lettered_total",
                               "Records written to the share group's dead-letter topic.", labels);
  g.lock_expiries = &r.counter("dmq_share_group_lock_expiries_total",
                               "Record locks that expired before an acknowledgement.", labels);
  g.acknowledged = &r.counter("dmq_share_group_acknowledged_total",
                              "Records accepted by share-group members.", labels);
  return groups_.emplace(group_id, std::move(g)).first->second;
}

ShareCoordinator::PartitionEntry& ShareCoordinator::partition_entry(GroupEntry& group,
                                                                    const TopicPartition& tp) {
  auto image = backend_.metadata();
  cluster::ConfigMap configs;
  if (auto t = image->topics.find(tp.topic); t != image->topics.end()) configs = t->second.configs;
  auto it = group.partitions.find(tp);
  if (it == group.partitions.end()) {
    PartitionEntry e;
    auto* rng = &rng_;
    e.sp = std::make_unique<SharePartition>(config_of(configs), [rng] {
      return std::uniform_real_distribution<double>(0.0, 1.0)(*rng);
    });
    it = group.partitions.emplace(tp, std::move(e)).first;
  } else {
    // Topic configs may change at any time; the next decision uses them.
    it->second.sp->set_config(config_of(configs));
  }
  auto dlq = configs.find("share.dead.letter.topic");
  it->second.dead_letter_topic = dlq == configs.end() ? "" : dlq->second;
  return it->second;
}

void ShareCoordinator::count(GroupEntry& group, const ShareEvents& events) {
  if (events.redeliveries) group.redeliveries->inc(static_cast<double>(events.redeliveries));
  if (events.lock_expiries) group.lock_expiries->inc(static_cast<double>(events.lock_expiries));
}

// ---- acknowledgements ----------------------------------------------------------------

namespace {

ShareError to_share_error(AckError e) {
  switch (e) {
    case AckError::kNone:
      return ShareError::kNone;
    case AckError::kNotDelivered:
      return ShareError::kNotDelivered;
    case AckError::kNotInFlight:
      return ShareError::kNotInFlight;
    case AckError::kWrongMember:
      return ShareError::kWrongMember;
  }
  return ShareError::kInvalidRequest;
}

std::string describe_ack_error(AckError e, const ShareAckEntry& a) {
  std::string where =
      a.tp.topic + "-" + std::to_string(a.tp.partition) + " offset " + std::to_string(a.offset);
  switch (e) {
    case AckError::kNotDelivered:
      return where + " was never delivered to this group";
    case AckError::kNotInFlight:
      return where + " is not in flight (already acknowledged, released, or its lock expired)";
    case AckError::kWrongMember:
      return where + " is locked by another member";
    default:
      return where;
  }
}

}  // namespace

void ShareCoordinator::acknowledge(const std::string& group_id, const std::string& member_id,
                                   std::vector<ShareAckEntry> acks,
                                   std::function<void(ShareAckResult)> done) {
  int32_t partition = -1;
  if (ShareError e = check_group(group_id, &partition); e != ShareError::kNone)
    return done({e, share_error_name(e), 0});
  GroupEntry* group = find(group_id);
  if (!group) return done({ShareError::kUnknownGroup, "no share group named '" + group_id + "'"});
  // All or none: check every acknowledgement before applying any.
  std::set<std::pair<TopicPartition, int64_t>> seen;
  for (const auto& a : acks) {
    if (!seen.insert({a.tp, a.offset}).second)
      return done({ShareError::kInvalidRequest,
                   describe_ack_error(AckError::kNone, a) + " is acknowledged twice in one call"});
    auto it = group->partitions.find(a.tp);
    AckError e = it == group->partitions.end() ? AckError::kNotDelivered
                                               : it->second.sp->check_ack(a.offset, member_id);
    if (e != AckError::kNone) return done({to_share_error(e), describe_ack_error(e, a), 0});
  }
  const int64_t now = now_ms();
  group->members[member_id] = now;
  std::set<TopicPartition> touched;
  ShareEvents events;
  size_t accepted = 0;
  for (const auto& a : acks) {
    PartitionEntry& entry = partition_entry(*group, a.tp);
    entry.sp->ack(a.offset, a.type, a.error, now, &events);
    touched.insert(a.tp);
    accepted += a.type == AckType::kAccept ? 1 : 0;
  }
  count(*group, events);
  // A release makes records available, an accept may move the window.
  wake_fetches(group_id, acks.size());
  const size_t n = acks.size();
  persist(group_id, touched,
          [this, group_id, touched, n, accepted, done = std::move(done)](ShareError e) {
            if (e != ShareError::kNone)
              return done({e, "the acknowledgement was not persisted", 0});
            if (GroupEntry* g = find(group_id)) g->acknowledged->inc(static_cast<double>(accepted));
            for (const auto& tp : touched) maybe_dead_letter(group_id, tp);
            done({ShareError::kNone, "", n});
          });
}

// ---- persistence -------------------------------------------------------------------

void ShareCoordinator::persist(const std::string& group_id, const std::set<TopicPartition>& tps,
                               PersistDone done) {
  GroupEntry* group = find(group_id);
  if (!group) return done(ShareError::kNotCoordinator);
  auto slot = slots_.find(group->state_partition);
  if (slot == slots_.end()) return done(ShareError::kNotCoordinator);
  std::set<StateKey> keys;
  for (const auto& tp : tps) {
    auto it = group->partitions.find(tp);
    if (it != group->partitions.end() && it->second.sp->initialized()) keys.insert({group_id, tp});
  }
  // Nothing of this caller's changed: nothing to wait for.
  if (keys.empty()) return done(ShareError::kNone);
  slot->second.writes.add(keys, std::move(done));
  post_write(group->state_partition);
}

// The write starts on the loop's next turn, not inside the caller: changes
// made in the same turn (a burst of requests, the waiters of the last write
// persisting again) share it.
void ShareCoordinator::post_write(int32_t partition) {
  auto slot = slots_.find(partition);
  if (slot == slots_.end() || slot->second.write_posted || slot->second.writes.in_flight()) return;
  slot->second.write_posted = true;
  const uint64_t load_id = slot->second.load_id;
  std::weak_ptr<bool> alive = alive_;
  asio::post(io_, [this, alive, partition, load_id] {
    if (alive.expired() || !slot_current(partition, load_id)) return;
    slots_[partition].write_posted = false;
    start_write(partition);
  });
}

void ShareCoordinator::start_write(int32_t partition) {
  Slot& slot = slots_[partition];
  auto batch = slot.writes.maybe_start();
  if (!batch) return;
  std::vector<Record> records;
  // Each share-partition once, as it is now: that includes every change of
  // every waiter of this batch.
  for (const auto& key : batch->keys) {
    GroupEntry* group = find(key.group_id);
    auto it = group ? group->partitions.find(key.tp)
                    : std::map<TopicPartition, PartitionEntry>::iterator{};
    if (!group || it == group->partitions.end() || !it->second.sp->initialized()) {
      // Deleted (delete_group): a tombstone, in order with the writes before.
      records.push_back({encode_share_key(key.group_id, key.tp), std::nullopt});
      continue;
    }
    records.push_back(
        {encode_share_key(key.group_id, key.tp), encode_share_value(it->second.sp->snapshot())});
  }
  state_writes_total_->inc();
  state_changes_total_->inc(static_cast<double>(batch->waiters.size()));
  const uint64_t load_id = slot.load_id;
  auto shared = std::make_shared<WriteQueue::Batch>(std::move(*batch));
  append(partition, records, [this, partition, load_id, shared](ShareError e, int64_t) {
    write_finished(partition, load_id, *shared, e);
  });
}

void ShareCoordinator::write_finished(int32_t partition, uint64_t load_id,
                                      const WriteQueue::Batch& batch, ShareError e) {
  const bool current = slot_current(partition, load_id);
  if (current) {
    slots_[partition].writes.finish();
    // Changed in memory but not durable: the tick writes them again, so a
    // state an error answer left behind still becomes durable.
    if (e != ShareError::kNone) {
      for (const auto& key : batch.keys)
        if (GroupEntry* g = find(key.group_id)) g->unpersisted.insert(key.tp);
    }
  } else if (e == ShareError::kNone) {
    // A write acknowledged after this broker lost the partition is still
    // durable; but an answer now could contradict the new coordinator.
    e = ShareError::kNotCoordinator;
  }
  for (const auto& done : batch.waiters) done(e);
  if (current) post_write(partition);
}

void ShareCoordinator::append(int32_t partition, const std::vector<Record>& records,
                              std::function<void(ShareError, int64_t)> done) {
  append_internal(backend_, kShareStateTopic, partition, records, now_ms(), alive_,
                  [done = std::move(done)](kafka::ErrorCode e, int64_t base_offset) {
                    if (e == kafka::ErrorCode::kNone) return done(ShareError::kNone, base_offset);
                    const bool moved = e == kafka::ErrorCode::kNotLeaderOrFollower ||
                                       e == kafka::ErrorCode::kFencedLeaderEpoch;
                    done(moved ? ShareError::kNotCoordinator : ShareError::kCoordinatorNotAvailable,
                         base_offset);
                  });
}

bool ShareCoordinator::slot_current(int32_t partition, uint64_t load_id) const {
  auto it = slots_.find(partition);
  return !stopped_ && it != slots_.end() && it->second.load_id == load_id;
}

uint64_t ShareCoordinator::load_id_of(int32_t partition) const {
  auto it = slots_.find(partition);
  return it == slots_.end() ? 0 : it->second.load_id;
}

void ShareCoordinator::ensure_state_topic() {
  if (creating_topic_ || stopped_) return;
  auto image = backend_.metadata();
  if (image->topics.count(kShareStateTopic)) return;
  creating_topic_ = true;
  int32_t live = 0;
  for (const auto& [id, b] : image->brokers) live += b.fenced ? 0 : 1;
  broker::TopicSpec spec;
  spec.name = std::string(kShareStateTopic);
  // Sized and replicated like __consumer_offsets (DESIGN.md §4).
  spec.partitions = options_.offsets_topic_num_partitions;
  spec.replication_factor = static_cast<int16_t>(
      std::max(1, std::min<int32_t>(options_.offsets_topic_replication_factor, live)));
  // Compacted: each record is a share-partition's whole state (share_records.h),
  // so the latest per key is all a load needs.
  spec.configs = {{"cleanup.policy", "compact"}, {"retention.ms", "-1"}, {"retention.bytes", "-1"}};
  std::weak_ptr<bool> alive = alive_;
  controller_.create_topic(spec, false, [this, alive](const broker::AdminResult& r) {
    if (alive.expired()) return;
    creating_topic_ = false;
    if (!r.ok() && r.code != "topic_exists") {
      LOG_WARN("share") << "creating " << kShareStateTopic << " failed: " << r.code << " "
                        << r.message;
    }
  });
}

// ---- timers and views ----------------------------------------------------------------

void ShareCoordinator::schedule_tick() {
  if (stopped_) return;
  tick_timer_.expires_after(std::chrono::milliseconds(kShareTickMs));
  std::weak_ptr<bool> alive = alive_;
  tick_timer_.async_wait([this, alive](const asio::error_code& ec) {
    if (ec || alive.expired() || stopped_) return;
    on_tick();
    schedule_tick();
  });
}

// Lock expiry is a failed delivery: the record comes back (after its
// backoff) or, at the delivery limit, goes to the dead-letter topic.
void ShareCoordinator::on_tick() {
  const int64_t now = now_ms();
  for (auto& [id, group] : groups_) {
    auto slot = slots_.find(group.state_partition);
    if (slot == slots_.end() || slot->second.status != SlotStatus::kActive) continue;
    std::set<TopicPartition> changed = std::move(group.unpersisted);
    group.unpersisted.clear();
    ShareEvents events;
    for (auto& [tp, entry] : group.partitions) {
      const int64_t before = events.lock_expiries;
      entry.sp->expire_locks(now, &events);
      if (events.lock_expiries != before) changed.insert(tp);
    }
    count(group, events);
    expire_members(group, now);
    if (changed.empty()) continue;
    wake_fetches(id, static_cast<size_t>(events.lock_expiries));
    std::string group_id = id;
    persist(group_id, changed, [this, group_id, changed](ShareError e) {
      if (e != ShareError::kNone) return;
      for (const auto& tp : changed) maybe_dead_letter(group_id, tp);
    });
  }
  if (++ticks_ % (1000 / kShareTickMs) == 0) update_gauges();
}

void ShareCoordinator::expire_members(GroupEntry& group, int64_t now) {
  const int64_t timeout = options_.group_share_session_timeout_ms;
  std::erase_if(group.members, [now, timeout](const auto& m) { return now - m.second > timeout; });
}

void ShareCoordinator::delete_group(const std::string& group_id,
                                    std::function<void(ShareError, std::string)> done) {
  if (ShareError e = check_group(group_id, nullptr); e != ShareError::kNone)
    return done(e, share_error_name(e));
  GroupEntry* group = find(group_id);
  if (!group) return done(ShareError::kUnknownGroup, "no share group named '" + group_id + "'");
  expire_members(*group, now_ms());
  if (!group->members.empty())
    return done(ShareError::kNonEmptyGroup,
                "the share group has " + std::to_string(group->members.size()) +
                    " active member(s); a member leaves group.share.session.timeout.ms after "
                    "its last fetch or ack");
  std::set<StateKey> keys;
  for (const auto& [tp, entry] : group->partitions) {
    if (!entry.sp->dead_letters_pending().empty() || entry.dead_letter_busy)
      return done(ShareError::kNonEmptyGroup,
                  "the share group still has dead letters to write on " + tp.topic + "-" +
                      std::to_string(tp.partition));
    keys.insert({group_id, tp});
  }
  const int32_t partition = group->state_partition;
  group->in_flight->set(0);
  groups_.erase(group_id);
  // Fetches still parked (of members that went quiet) end with the group.
  std::vector<std::shared_ptr<FetchOp>> parked;
  for (const auto& op : fetches_)
    if (op->request.group_id == group_id) parked.push_back(op);
  for (const auto& op : parked)
    answer_fetch(*op, ShareError::kUnknownGroup, "the group was deleted");
  if (keys.empty()) return done(ShareError::kNone, "");
  slots_[partition].writes.add(keys, [done](ShareError e) {
    done(e, e == ShareError::kNone ? "" : "the deletion was not persisted");
  });
  post_write(partition);
}

void ShareCoordinator::update_gauges() {
  for (auto& [id, group] : groups_) {
    size_t n = 0;
    for (const auto& [tp, entry] : group.partitions) n += entry.sp->in_flight();
    group.in_flight->set(static_cast<double>(n));
  }
}

std::optional<ShareGroupDetail> ShareCoordinator::describe(const std::string& group_id) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return std::nullopt;
  const GroupEntry& g = it->second;
  ShareGroupDetail d;
  d.group_id = group_id;
  d.coordinator = backend_.node_id().value;
  d.state_partition = g.state_partition;
  const int64_t now = now_ms();
  std::map<std::string, size_t> locks;
  for (const auto& [tp, entry] : g.partitions) {
    SharePartitionView v;
    v.tp = tp;
    const auto& s = entry.sp->snapshot();
    v.start_offset = s.start_offset;
    v.next_offset = s.next_offset;
    v.dead_lettered = s.dead_lettered;
    for (const auto& [offset, r] : s.records) {
      v.in_flight += r.state == RecordState::kAcquired ? 1 : 0;
      v.available += r.state == RecordState::kAvailable ? 1 : 0;
      v.dead_letter_pending += r.state == RecordState::kDeadLettering ? 1 : 0;
      if (r.state == RecordState::kAcquired) locks[r.member_id]++;
    }
    d.partitions.push_back(v);
  }
  for (const auto& [member, seen] : g.members)
    d.members.push_back({member, now - seen, locks[member]});
  return d;
}

}  // namespace dmq::group
