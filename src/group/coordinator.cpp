// The coordinator's core: group lookup, parked requests, persistence into
// __consumer_offsets, leadership changes and loading, timers and metrics.
// The per-API handlers are in coordinator_members.cpp,
// coordinator_offsets.cpp and coordinator_admin.cpp.
#include "group/coordinator.h"

#include <unistd.h>

#include <cstdio>

#include "common/assert.h"
#include "common/log.h"
#include "common/metrics.h"
#include "group/coordinator_internal.h"
#include "group/internal_topic.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/server/service.h"

namespace dmq::group {

kafka::ErrorCode to_kafka(Error e) {
  using kafka::ErrorCode;
  switch (e) {
    case Error::kNone:
      return ErrorCode::kNone;
    case Error::kNotCoordinator:
      return ErrorCode::kNotCoordinator;
    case Error::kLoadInProgress:
      return ErrorCode::kCoordinatorLoadInProgress;
    case Error::kCoordinatorNotAvailable:
      return ErrorCode::kCoordinatorNotAvailable;
    case Error::kInvalidGroupId:
      return ErrorCode::kInvalidGroupId;
    case Error::kUnknownMemberId:
      return ErrorCode::kUnknownMemberId;
    case Error::kIllegalGeneration:
      return ErrorCode::kIllegalGeneration;
    case Error::kRebalanceInProgress:
      return ErrorCode::kRebalanceInProgress;
    case Error::kMemberIdRequired:
      return ErrorCode::kMemberIdRequired;
    case Error::kFencedInstanceId:
      return ErrorCode::kFencedInstanceId;
    case Error::kInconsistentGroupProtocol:
      return ErrorCode::kInconsistentGroupProtocol;
    case Error::kInvalidSessionTimeout:
      return ErrorCode::kInvalidSessionTimeout;
    case Error::kNonEmptyGroup:
      return ErrorCode::kNonEmptyGroup;
    case Error::kGroupIdNotFound:
      return ErrorCode::kGroupIdNotFound;
    case Error::kOffsetMetadataTooLarge:
      return ErrorCode::kOffsetMetadataTooLarge;
    case Error::kGroupSubscribedToTopic:
      return ErrorCode::kGroupSubscribedToTopic;
  }
  return ErrorCode::kUnknownServerError;
}

// A failed write to __consumer_offsets, as Kafka's coordinator reports it:
// a lost leadership sends the client to find the coordinator again.
Error from_produce_error(kafka::ErrorCode e) {
  using kafka::ErrorCode;
  if (e == ErrorCode::kNone) return Error::kNone;
  if (e == ErrorCode::kNotLeaderOrFollower || e == ErrorCode::kFencedLeaderEpoch)
    return Error::kNotCoordinator;
  return Error::kCoordinatorNotAvailable;
}

Coordinator::Coordinator(asio::io_context& io, const Options& options, broker::Backend& backend,
                         broker::MetadataView& view, broker::ControllerClient& controller)
    : io_(io),
      options_(options),
      backend_(backend),
      view_(view),
      controller_(controller),
      tick_timer_(io),
      rng_(std::random_device{}()) {
  auto& r = metrics::registry();
  rebalances_total_ = &r.counter("dmq_group_rebalances_total",
                                 "Rebalances started by groups this broker coordinates.");
  commits_total_ = &r.counter("dmq_group_offset_commits_total",
                              "Partition offsets committed through this coordinator.");
  loads_total_ = &r.counter("dmq_group_partition_loads_total",
                            "__consumer_offsets partitions loaded after becoming their leader.");
  for (auto s : {GroupState::kEmpty, GroupState::kPreparingRebalance,
                 GroupState::kCompletingRebalance, GroupState::kStable, GroupState::kDead}) {
    state_gauges_[s] = &r.gauge("dmq_groups", "Groups this broker coordinates, by state.",
                                {{"state", std::string(state_name(s))}});
  }
  loading_gauge_ = &r.gauge("dmq_group_partitions_loading",
                            "__consumer_offsets partitions led here and still loading.");
}

Coordinator::~Coordinator() {
  *alive_ = false;
  stop();
}

void Coordinator::register_handlers(kafka::Service& service) {
  using kafka::ApiKey;
  for (ApiKey key : {ApiKey::kFindCoordinator, ApiKey::kJoinGroup, ApiKey::kSyncGroup,
                     ApiKey::kHeartbeat, ApiKey::kLeaveGroup, ApiKey::kOffsetCommit,
                     ApiKey::kOffsetFetch, ApiKey::kListGroups, ApiKey::kDescribeGroups,
                     ApiKey::kDeleteGroups, ApiKey::kOffsetDelete, ApiKey::kTxnOffsetCommit}) {
    service.set_handler(key, [this](const kafka::ExchangePtr& ex) { handle(ex); });
  }
}

void Coordinator::handle(const kafka::ExchangePtr& ex) {
  using kafka::ApiKey;
  switch (ex->request.api_key()) {
    case ApiKey::kFindCoordinator:
      return handle_find_coordinator(ex);
    case ApiKey::kJoinGroup:
      return handle_join(ex);
    case ApiKey::kSyncGroup:
      return handle_sync(ex);
    case ApiKey::kHeartbeat:
      return handle_heartbeat(ex);
    case ApiKey::kLeaveGroup:
      return handle_leave(ex);
    case ApiKey::kOffsetCommit:
      return handle_offset_commit(ex);
    case ApiKey::kOffsetFetch:
      return handle_offset_fetch(ex);
    case ApiKey::kListGroups:
      return handle_list_groups(ex);
    case ApiKey::kDescribeGroups:
      return handle_describe_groups(ex);
    case ApiKey::kDeleteGroups:
      return handle_delete_groups(ex);
    case ApiKey::kOffsetDelete:
      return handle_offset_delete(ex);
    case ApiKey::kTxnOffsetCommit:
      return handle_txn_offset_commit(ex);
    default:
      DMQ_ASSERT(false && "not a group API");
  }
}

void Coordinator::start() {
  DMQ_ASSERT(!started_);
  started_ = true;
  std::weak_ptr<bool> alive = alive_;
  view_.on_change(
      [this, alive](const broker::MetadataView::Image&, const broker::MetadataView::Image& next) {
        auto a = alive.lock();
        if (!a || !*a || stopped_) return;
        handle_metadata_change(*next);
      });
  last_expiry_check_ms_ = now().count();
  handle_metadata_change(*view_.current());
  schedule_tick();
}

void Coordinator::stop() {
  if (stopped_) return;
  stopped_ = true;
  tick_timer_.cancel();
  for (auto& [id, entry] : groups_) {
    entry.group->become_dead(Error::kNotCoordinator);
    deliver(entry.group->take_replies(), Error::kNone);
  }
  groups_.clear();
  slots_.clear();
  // Anything still parked (waiting for a write) learns to look elsewhere.
  auto parked = std::move(parked_);
  parked_.clear();
  for (auto& [token, p] : parked) {
    p.exchange->respond(kafka::make_error(*p.exchange, kafka::ErrorCode::kNotCoordinator));
  }
}

TimeMs Coordinator::now() const {
  return std::chrono::duration_cast<TimeMs>(std::chrono::system_clock::now().time_since_epoch());
}

GroupConfig Coordinator::group_config() const {
  GroupConfig c;
  c.min_session_timeout_ms = options_.group_min_session_timeout_ms;
  c.max_session_timeout_ms = options_.group_max_session_timeout_ms;
  c.initial_rebalance_delay_ms = options_.group_initial_rebalance_delay_ms;
  // Member ids only need to be unique; the generator lives as long as the
  // coordinator, which outlives every group it holds.
  std::mt19937_64* rng = &rng_;
  c.new_uuid = [rng] {
    uint64_t a = (*rng)(), b = (*rng)();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                  static_cast<unsigned>(b >> 48),
                  static_cast<unsigned long long>(b & 0xffffffffffffull));
    return std::string(buf);
  };
  return c;
}

// ---- groups --------------------------------------------------------------------

int32_t Coordinator::offsets_partitions() const {
  auto image = backend_.metadata();
  auto it = image->topics.find(kOffsetsTopic);
  if (it == image->topics.end()) return 0;
  return static_cast<int32_t>(it->second.partitions.size());
}

Error Coordinator::check_group(std::string_view group_id, int32_t* partition) const {
  if (group_id.empty()) return Error::kInvalidGroupId;
  if (stopped_) return Error::kNotCoordinator;
  int32_t n = offsets_partitions();
  if (n == 0) return Error::kNotCoordinator;
  int32_t p = partition_for(group_id, n);
  if (partition) *partition = p;
  auto it = slots_.find(p);
  if (it == slots_.end()) return Error::kNotCoordinator;
  if (it->second.status == SlotStatus::kLoading) return Error::kLoadInProgress;
  return Error::kNone;
}

Coordinator::Entry* Coordinator::find(std::string_view group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

const Coordinator::Entry* Coordinator::find(std::string_view group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

Coordinator::Entry& Coordinator::create(const std::string& group_id, int32_t partition) {
  Entry entry;
  entry.group = std::make_unique<Group>(group_id, group_config());
  entry.partition = partition;
  return groups_.emplace(group_id, std::move(entry)).first->second;
}

Token Coordinator::park(const kafka::ExchangePtr& ex) {
  Token t = next_token_++;
  parked_.emplace(t, Parked{ex});
  return t;
}

void Coordinator::after_group_op(Entry& entry, std::vector<Reply> extra) {
  auto replies = entry.group->take_replies();
  for (auto& r : extra) replies.push_back(std::move(r));
  uint64_t rebalances = entry.group->rebalances();
  if (rebalances > entry.rebalances_seen) {
    rebalances_total_->inc(static_cast<double>(rebalances - entry.rebalances_seen));
    entry.rebalances_seen = rebalances;
  }
  if (!entry.group->metadata_dirty()) {
    deliver(std::move(replies), Error::kNone);
    return;
  }
  // The assignment (or the new static member id) must be durable before the
  // members learn it, or a failover could hand out a different one.
  entry.group->clear_metadata_dirty();
  std::weak_ptr<bool> alive = alive_;
  persist_group(entry, [this, alive, replies = std::move(replies)](Error e) mutable {
    if (alive.expired()) return;
    deliver(std::move(replies), e);
  });
}

void Coordinator::deliver(std::vector<Reply> replies, Error override_error) {
  for (auto& r : replies) {
    auto it = parked_.find(r.token);
    if (it == parked_.end()) continue;  // answered already (stop)
    kafka::ExchangePtr ex = std::move(it->second.exchange);
    parked_.erase(it);
    if (auto* join = std::get_if<JoinAnswer>(&r.answer)) {
      if (override_error != Error::kNone) join->error = override_error;
      deliver_join(ex, *join);
    } else {
      auto& sync = std::get<SyncAnswer>(r.answer);
      if (override_error != Error::kNone) {
        sync.error = override_error;
        sync.assignment.clear();
      }
      deliver_sync(ex, sync);
    }
  }
}

// ---- persistence -----------------------------------------------------------------

void Coordinator::append(int32_t partition, const std::vector<Record>& records, Appended done) {
  append_internal(backend_, kOffsetsTopic, partition, records, now().count(), alive_,
                  [done = std::move(done)](kafka::ErrorCode e, int64_t base_offset) {
                    done(from_produce_error(e), base_offset);
                  });
}

void Coordinator::persist_group(Entry& entry, Written done) {
  const Group& g = *entry.group;
  append(entry.partition, {{encode_group_key(g.id()), encode_group_value(g.snapshot())}},
         [done = std::move(done)](Error e, int64_t) { done(e); });
}

// ---- leadership and loading -----------------------------------------------------

void Coordinator::handle_metadata_change(const cluster::MetadataImage& image) {
  const auto led = led_partitions(image, kOffsetsTopic, backend_.node_id().value);
  std::vector<int32_t> lost;
  for (const auto& [p, slot] : slots_) {
    auto it = led.find(p);
    if (it == led.end() || it->second != slot.leader_epoch) lost.push_back(p);
  }
  for (int32_t p : lost) unload(p);
  for (const auto& [p, epoch] : led) {
    if (!slots_.count(p)) begin_load(p, epoch);
  }
}

void Coordinator::begin_load(int32_t partition, int32_t leader_epoch) {
  Slot slot;
  slot.status = SlotStatus::kLoading;
  slot.leader_epoch = leader_epoch;
  slot.load_id = next_load_id_++;
  slots_[partition] = slot;
  LOG_INFO("group") << "loading " << kOffsetsTopic << "-" << partition << " (leader epoch "
                    << leader_epoch << ")";
  write_load_marker(partition, slot.load_id);
}

bool Coordinator::load_current(int32_t partition, uint64_t load_id) const {
  auto it = slots_.find(partition);
  return !stopped_ && it != slots_.end() && it->second.load_id == load_id &&
         it->second.status == SlotStatus::kLoading;
}

void Coordinator::retry_later(std::function<void()> fn, std::chrono::milliseconds delay) {
  run_after(io_, delay, alive_, std::move(fn));
}

// The marker is a tombstone for the invalid group id "": harmless to any
// reader of the topic. Once it is acknowledged with acks=-1, the high
// watermark has passed every record an earlier leader acknowledged, so the
// load below cannot miss a commit (Raft §5.4.2 has a new leader commit an
// entry of its own term for the same reason).
void Coordinator::write_load_marker(int32_t partition, uint64_t load_id) {
  if (!load_current(partition, load_id)) return;
  append_load_marker(
      backend_, kOffsetsTopic, partition, encode_group_key(""), now().count(), alive_,
      [this, partition, load_id](int64_t start, int64_t end) {
        if (!load_current(partition, load_id)) return;
        auto state = std::make_shared<LoadState>();
        state->next = start;
        state->end = end;
        read_step(partition, load_id, state);
      },
      [this, partition, load_id] {
        // The partition replica may not have taken leadership yet.
        retry_later([this, partition, load_id] { write_load_marker(partition, load_id); },
                    std::chrono::milliseconds(100));
      });
}

void Coordinator::read_step(int32_t partition, uint64_t load_id, std::shared_ptr<LoadState> state) {
  if (!load_current(partition, load_id)) return;
  if (state->next >= state->end) {
    finish_load(partition, *state);
    return;
  }
  auto again = [this, partition, load_id, state] { read_step(partition, load_id, state); };
  continue_load(io_,
                load_chunk(backend_, kOffsetsTopic, partition, state->next,
                           [&](const std::string& bytes) { apply_batches(bytes, *state); }),
                alive_, std::move(again));
}

void Coordinator::finish_load(int32_t partition, LoadState& state) {
  const TimeMs t = now();
  std::set<std::string> ids;
  for (const auto& [id, meta] : state.meta)
    if (meta) ids.insert(id);
  for (const auto& [id, offsets] : state.offsets) {
    for (const auto& [tp, o] : offsets)
      if (o) ids.insert(id);
  }
  ids.erase("");
  size_t loaded = 0;
  for (const auto& id : ids) {
    if (auto old = groups_.find(id); old != groups_.end()) {
      old->second.group->become_dead(Error::kNotCoordinator);
      deliver(old->second.group->take_replies(), Error::kNone);
      groups_.erase(old);
    }
    auto meta = state.meta.find(id);
    Entry entry;
    entry.partition = partition;
    entry.group = std::make_unique<Group>(meta != state.meta.end() && meta->second
                                              ? Group::restore(id, group_config(), *meta->second, t)
                                              : Group(id, group_config()));
    if (auto offs = state.offsets.find(id); offs != state.offsets.end()) {
      for (const auto& [tp, o] : offs->second)
        if (o) entry.group->apply_commit(tp, *o);
    }
    entry.rebalances_seen = entry.group->rebalances();
    groups_.emplace(id, std::move(entry));
    loaded++;
  }
  for (auto& [producer_id, offsets] : state.pending_txn) {
    pending_txn_offsets_[{producer_id, partition}] = std::move(offsets);
  }
  if (!state.pending_txn.empty()) {
    LOG_INFO("group") << kOffsetsTopic << "-" << partition << ": the offsets of "
                      << state.pending_txn.size() << " open transactions await their markers";
  }
  slots_[partition].status = SlotStatus::kActive;
  loads_total_->inc();
  LOG_INFO("group") << "loaded " << kOffsetsTopic << "-" << partition << ": " << loaded
                    << " groups from " << state.records << " records (" << state.skipped
                    << " unreadable)";
}

void Coordinator::unload(int32_t partition) {
  slots_.erase(partition);
  std::erase_if(pending_txn_offsets_,
                [partition](const auto& pending) { return pending.first.second == partition; });
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (it->second.partition != partition) {
      ++it;
      continue;
    }
    it->second.group->become_dead(Error::kNotCoordinator);
    deliver(it->second.group->take_replies(), Error::kNone);
    it = groups_.erase(it);
  }
  LOG_INFO("group") << "no longer coordinating " << kOffsetsTopic << "-" << partition;
}

void Coordinator::maybe_create_offsets_topic() {
  maybe_create_internal_topic(std::string(kOffsetsTopic), options_.offsets_topic_num_partitions,
                              options_.offsets_topic_replication_factor);
}

void Coordinator::maybe_create_internal_topic(const std::string& name, int32_t partitions,
                                              int16_t replication_factor) {
  if (creating_topics_.count(name)) return;
  creating_topics_.insert(name);
  auto image = backend_.metadata();
  int32_t live = 0;
  for (const auto& [id, b] : image->brokers) live += b.fenced ? 0 : 1;
  broker::TopicSpec spec;
  spec.name = name;
  spec.partitions = partitions;
  // Like Kafka's auto-creation on a small cluster: fewer replicas than asked
  // rather than no coordinator at all.
  spec.replication_factor =
      static_cast<int16_t>(std::max(1, std::min<int32_t>(replication_factor, live)));
  // Compacted (Kafka's default): the latest record per key stays, so a
  // coordinator's load time follows the live keys, not the history.
  spec.configs = {{"cleanup.policy", "compact"},
                  {"retention.ms", "-1"},
                  {"retention.bytes", "-1"},
                  {"segment.bytes", std::to_string(options_.offsets_topic_segment_bytes)}};
  std::weak_ptr<bool> alive = alive_;
  controller_.create_topic(spec, false, [this, alive, name](const broker::AdminResult& r) {
    if (alive.expired()) return;
    creating_topics_.erase(name);
    if (!r.ok() && r.code != "topic_exists") {
      LOG_WARN("group") << "creating " << name << " failed: " << r.code << " " << r.message;
    }
  });
}

std::optional<int64_t> Coordinator::high_watermark(const TopicPartition& tp) const {
  // Any replica hosted here knows it (a follower's trails by at most one fetch).
  const broker::PartitionId id(tp.partition);
  if (auto offsets = backend_.replica_offsets(tp.topic, id)) return offsets->second.value;
  auto hw = backend_.list_offset(tp.topic, id, -1);
  if (hw.error != kafka::ErrorCode::kNone) return std::nullopt;
  return hw.offset.value;
}

// ---- timers and metrics ------------------------------------------------------------

void Coordinator::schedule_tick() {
  if (stopped_) return;
  tick_timer_.expires_after(std::chrono::milliseconds(kTickMs));
  std::weak_ptr<bool> alive = alive_;
  tick_timer_.async_wait([this, alive](const asio::error_code& ec) {
    if (ec || alive.expired() || stopped_) return;
    on_tick();
    schedule_tick();
  });
}

void Coordinator::on_tick() {
  const TimeMs t = now();
  for (auto& [id, entry] : groups_) {
    entry.group->tick(t);
    after_group_op(entry);
  }
  if (t.count() - last_expiry_check_ms_ >= options_.offsets_retention_check_interval_ms) {
    last_expiry_check_ms_ = t.count();
    maybe_expire_offsets();
  }
  if (++ticks_ % (1000 / kTickMs) == 0) update_gauges();
}

void Coordinator::maybe_expire_offsets() {
  const TimeMs t = now();
  const int64_t retention_ms = options_.offsets_retention_minutes * 60 * 1000;
  for (auto& [id, entry] : groups_) {
    auto expired = entry.group->expired_offsets(t, retention_ms);
    const bool remove_group = entry.group->state() == GroupState::kEmpty &&
                              expired.size() == entry.group->offsets().size();
    if (expired.empty() && !remove_group) continue;
    std::vector<Record> records;
    for (const auto& tp : expired) records.push_back({encode_offset_key(id, tp), std::nullopt});
    if (remove_group) records.push_back({encode_group_key(id), std::nullopt});
    std::string group_id = id;
    append(entry.partition, records, [this, group_id, expired, remove_group](Error e, int64_t) {
      if (e != Error::kNone) return;  // tried again at the next check
      Entry* entry = find(group_id);
      if (!entry) return;
      for (const auto& tp : expired) entry->group->erase_offset(tp);
      if (remove_group && entry->group->removable()) {
        entry->group->become_dead(Error::kCoordinatorNotAvailable);
        deliver(entry->group->take_replies(), Error::kNone);
        groups_.erase(group_id);
      }
    });
    LOG_INFO("group") << "group " << id << ": " << expired.size() << " offsets expired"
                      << (remove_group ? ", group removed" : "");
  }
}

void Coordinator::update_gauges() {
  std::map<GroupState, double> counts;
  for (const auto& [id, entry] : groups_) counts[entry.group->state()] += 1;
  for (auto& [state, gauge] : state_gauges_) gauge->set(counts[state]);
  double loading = 0;
  for (const auto& [p, slot] : slots_) loading += slot.status == SlotStatus::kLoading ? 1 : 0;
  loading_gauge_->set(loading);
  // Lag over the partitions whose high watermark this broker knows.
  for (auto& [id, gauge] : lag_gauges_) gauge->set(0);
  for (const auto& [id, entry] : groups_) {
    int64_t lag = 0;
    for (const auto& [tp, o] : entry.group->offsets()) {
      if (auto hw = high_watermark(tp)) lag += std::max<int64_t>(0, *hw - o.offset);
    }
    auto it = lag_gauges_.find(id);
    if (it == lag_gauges_.end()) {
      it = lag_gauges_
               .emplace(id, &metrics::registry().gauge(
                                "dmq_group_lag",
                                "Messages between the committed offsets and the high watermarks "
                                "(partitions hosted on the coordinator).",
                                {{"group", id}}))
               .first;
    }
    it->second->set(static_cast<double>(lag));
  }
}

}  // namespace dmq::group
