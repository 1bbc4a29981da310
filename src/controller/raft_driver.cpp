#include "controller/raft_driver.h"

#include <algorithm>
#include <future>
#include <sstream>

#include "common/log.h"
#include "common/metrics.h"
#include "trace/tracer.h"

namespace dmq::controller {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kProposalTimeout = std::chrono::seconds(30);

struct DriverMetrics {
  metrics::Gauge& term;
  metrics::Gauge& leader;
  metrics::Gauge& commit;
  metrics::Gauge& applied;
  metrics::Counter& proposals;
  metrics::Counter& proposals_failed;
  metrics::Counter& elections_started;
  metrics::Counter& elections_won;
  metrics::Histogram& persist_seconds;
  metrics::Histogram& commit_seconds;
  metrics::Counter& ready_batches;
  metrics::Counter& entries_persisted;
};

DriverMetrics& driver_metrics() {
  auto& r = metrics::registry();
  static DriverMetrics m{
      r.gauge("dmq_raft_term", "Current Raft term of this controller."),
      r.gauge("dmq_raft_leader_id", "Controller leader id as seen by this node (0: none)."),
      r.gauge("dmq_raft_commit_index", "Raft commit index."),
      r.gauge("dmq_raft_applied_index", "Last Raft index applied to the metadata state."),
      r.counter("dmq_raft_proposals_total", "Entries proposed on this node."),
      r.counter("dmq_raft_proposals_failed_total", "Proposals that did not commit."),
      r.counter("dmq_raft_elections_started_total", "Elections (and pre-votes) started here."),
      r.counter("dmq_raft_elections_won_total", "Elections won by this node."),
      r.histogram("dmq_raft_persist_seconds",
                  "Time to append and fsync one Ready batch (one LMDB commit).",
                  metrics::latency_buckets_seconds()),
      r.histogram("dmq_raft_commit_seconds", "Time from proposal to apply on the leader.",
                  metrics::latency_buckets_seconds()),
      r.counter("dmq_raft_ready_batches_total", "Ready batches persisted (fsyncs)."),
      r.counter("dmq_raft_entries_persisted_total", "Log entries persisted."),
  };
  return m;
}

// "id@host:port,...;id,id": the voters' addresses, then the ids of members
// known to have joined (see PeerBook).
std::string encode_book(const PeerBook& book) {
  std::string out;
  for (const auto& [id, address] : book.addresses) {
    if (!out.empty()) out += ',';
    out += std::to_string(id) + "@" + address.to_string();
  }
  out += ';';
  bool first = true;
  for (uint64_t id : book.initialized) {
    if (!first) out += ',';
    first = false;
    out += std::to_string(id);
  }
  return out;
}

PeerBook decode_book(const std::string& text) {
  PeerBook book;
  auto semicolon = text.find(';');
  std::string addresses = text.substr(0, semicolon);
  std::string error;
  if (!addresses.empty()) {
    if (auto voters = parse_voters(addresses, &error)) {
      for (const auto& v : *voters) book.addresses[v.node_id] = v.http;
    }
  }
  if (semicolon != std::string::npos) {
    std::stringstream ids(text.substr(semicolon + 1));
    std::string id;
    while (std::getline(ids, id, ',')) {
      if (!id.empty()) book.initialized.insert(std::strtoull(id.c_str(), nullptr, 10));
    }
  }
  return book;
}

void merge_book(PeerBook& into, const PeerBook& from) {
  for (const auto& [id, address] : from.addresses) into.addresses[id] = address;
  into.initialized.insert(from.initialized.begin(), from.initialized.end());
}

// Raft snapshots carry the driver's address book before the application's
// image: u32 length, addresses, application bytes.
std::string wrap_snapshot(const std::string& addresses, const std::string& app) {
  std::string out;
  uint32_t n = static_cast<uint32_t>(addresses.size());
  for (int i = 3; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out += addresses;
  out += app;
  return out;
}

bool unwrap_snapshot(const std::string& data, std::string* addresses, std::string* app) {
  if (data.size() < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(data[i]);
  if (data.size() - 4 < n) return false;
  *addresses = data.substr(4, n);
  *app = data.substr(4 + n);
  return true;
}

}  // namespace

std::optional<std::string> RaftDriver::application_snapshot(const std::string& data) {
  std::string addresses, app;
  if (!unwrap_snapshot(data, &addresses, &app)) return std::nullopt;
  return app;
}

RaftDriver::RaftDriver(net::EventLoop& loop, store::Env& env, RaftStateMachine& state_machine,
                       RaftDriverConfig config)
    : loop_(loop),
      env_(env),
      state_machine_(state_machine),
      config_(std::move(config)),
      tick_timer_(loop.context()) {
  for (const auto& v : config_.voters) book_.addresses[v.node_id] = v.http;
}

RaftDriver::~RaftDriver() = default;

void RaftDriver::start() {
  log_store_ = std::make_unique<store::RaftLogStore>(&env_);
  auto durable = log_store_->load();
  if (!durable.bootstrapped) {
    if (config_.voters.size() > 1 && config_.is_wiped_member && config_.is_wiped_member()) {
      // It may have voted in a term before the wipe and no longer knows it;
      // as a voter it could vote twice in that term. Refuse, as etcd does.
      throw std::runtime_error(
          "data dir is empty but node " + std::to_string(config_.id.value) +
          " is a member of the running cluster (its Raft state was lost); remove it with "
          "DELETE /v1/cluster/voters/" +
          std::to_string(config_.id.value) +
          " on another controller, start it again, then add it with POST /v1/cluster/voters");
    }
    std::vector<raft::NodeId> voters;
    for (const auto& v : config_.voters) voters.push_back(raft::NodeId(v.node_id));
    // Every founding member writes the same bootstrap log (voter entries at
    // term 1), so their logs agree from the first index.
    durable.entries = raft::bootstrap_entries(voters);
    durable.hard_state =
        raft::HardState{raft::Term(1), raft::kNoNode, durable.entries.back().index};
    env_.write([&](store::WriteTxn& txn) {
      log_store_->set_bootstrap_voters_if_unset(txn, voters);
      log_store_->append(txn, durable.entries);
      log_store_->save_hard_state(txn, durable.hard_state);
    });
  }
  merge_book(book_, decode_book(log_store_->load_addresses()));

  if (!durable.snapshot.empty() && state_machine_.applied_index() < durable.snapshot.meta.index) {
    // A crash came between storing a leader's snapshot and restoring the
    // application from it: finish the restore.
    std::string addresses, app;
    if (unwrap_snapshot(durable.snapshot.data, &addresses, &app)) {
      state_machine_.restore(app, durable.snapshot.meta.index);
    }
  }
  mirror_ = raft::MemoryStorage();
  if (!durable.snapshot.empty()) {
    mirror_.apply_snapshot(durable.snapshot);
    last_snapshot_index_ = durable.snapshot.meta.index.value;
  }
  mirror_.append(durable.entries);
  mirror_.set_hard_state(durable.hard_state);
  mirror_hard_state_ = durable.hard_state;
  persisted_hard_state_ = durable.hard_state;

  raft::Config rc;
  rc.id = config_.id;
  rc.election_tick = config_.election_tick;
  rc.heartbeat_tick = 1;
  rc.seed = config_.id.value * 0x9E3779B97F4A7C15ull ^
            static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  rc.applied = std::max(state_machine_.applied_index(), durable.snapshot.meta.index);
  applied_ = rc.applied.value;
  node_ = std::make_unique<raft::Node>(rc, &mirror_);
  auto voters = node_->status().voters;

  LOG_INFO("raft") << "controller " << config_.id.value << " starting: term "
                   << durable.hard_state.term.value << ", log (" << mirror_.first_index().value
                   << ".." << mirror_.last_index().value << "], applied " << rc.applied.value
                   << ", " << voters.size() << " voters";
  // A single voter elects itself at once rather than waiting a timeout.
  if (voters.size() == 1 && voters[0] == config_.id) node_->campaign();
  track_peers();
  schedule_tick();
  maybe_process_ready();
}

void RaftDriver::stop() {
  if (stopped_) return;
  stopped_ = true;
  tick_timer_.cancel();
  for (auto& [id, sender] : senders_) sender->stop();
  // Jobs already on the disk thread finish; their completions are dropped.
  disk_.stop();
  for (auto& [index, waiter] : waiters_) {
    waiter.done(ProposeOutcome{ProposeStatus::kShuttingDown, raft::LogIndex(index)});
  }
  waiters_.clear();
}

void RaftDriver::schedule_tick() {
  tick_timer_.expires_after(std::chrono::milliseconds(config_.tick_ms));
  tick_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopped_) return;
    node_->tick();
    maybe_mark_joined();
    expire_waiters();
    update_metrics();
    maybe_process_ready();
    schedule_tick();
  });
}

void RaftDriver::receive(std::vector<raft::Message> messages) {
  if (stopped_) return;
  for (auto& m : messages) {
    if (m.to != config_.id) continue;
    node_->step(m);
  }
  maybe_process_ready();
}

void RaftDriver::maybe_process_ready() {
  // Coalesce: many messages arriving together produce one Ready.
  if (ready_scheduled_ || stopped_) return;
  ready_scheduled_ = true;
  loop_.post([this] {
    ready_scheduled_ = false;
    if (stopped_ || disk_busy_ || !node_->has_ready()) return;
    auto rd = std::make_shared<raft::Ready>(node_->ready());
    send_replication_early(*rd);
    disk_busy_ = true;
    disk_.post([this, rd] {
      persist_on_disk_thread(*rd);
      loop_.post([this, rd] { on_persisted(rd); });
    });
  });
}

void RaftDriver::send_replication_early(raft::Ready& rd) {
  // Raft thesis §10.2.1: a leader may replicate entries while it writes them
  // to its own disk, because the core counts the leader's own copy toward the
  // commit only after advance(), i.e. once they are durable here. Votes and
  // anything sent under a new term or vote must still wait for the fsync.
  bool term_and_vote_durable =
      !rd.snapshot && (!rd.hard_state || (rd.hard_state->term == persisted_hard_state_.term &&
                                          rd.hard_state->vote == persisted_hard_state_.vote));
  if (!term_and_vote_durable || node_->role() != raft::Role::kLeader) return;
  std::vector<raft::Message> later;
  for (auto& m : rd.messages) {
    bool replication =
        m.type == raft::MessageType::kAppend || m.type == raft::MessageType::kHeartbeat;
    auto it = senders_.find(m.to.value);
    if (replication && it != senders_.end()) {
      it->second->send(std::move(m));
    } else {
      later.push_back(std::move(m));
    }
  }
  rd.messages = std::move(later);
}

void RaftDriver::persist_on_disk_thread(const raft::Ready& rd) {
  if (rd.entries.empty() && !rd.hard_state && !rd.snapshot && rd.committed_entries.empty()) {
    return;  // messages or read states only: nothing to make durable
  }
  auto start = Clock::now();
  std::string snapshot_addresses, snapshot_app;
  bool snapshot_ok = false;
  if (rd.snapshot) {
    snapshot_ok = unwrap_snapshot(rd.snapshot->data, &snapshot_addresses, &snapshot_app);
    if (!snapshot_ok) {
      LOG_ERROR("raft") << "snapshot at " << rd.snapshot->meta.index.value
                        << " has a malformed envelope; state not restored";
    }
  }
  // Entries the application sees: driver records and non-data entries only
  // move its applied index.
  std::vector<raft::Entry> app_entries;
  std::vector<const raft::Entry*> driver_records;
  app_entries.reserve(rd.committed_entries.size());
  for (const auto& entry : rd.committed_entries) {
    bool is_data = entry.type == raft::EntryType::kNormal && !entry.data.empty();
    if (is_data && entry.data[0] == cluster::format::kDriverRecordMarker) {
      driver_records.push_back(&entry);
      is_data = false;
    }
    app_entries.push_back(is_data ? entry : raft::Entry{entry.term, entry.index, entry.type, {}});
  }
  if (!app_entries.empty()) state_machine_.stage(app_entries);
  // A Ready with no entries, no vote or term change and no snapshot only
  // moves the commit index and applies: a crash may undo it safely (both are
  // redone from the durable log), so it costs one sync instead of two.
  bool redoable = rd.entries.empty() && !rd.snapshot &&
                  (!rd.hard_state || (rd.hard_state->term == mirror_hard_state_.term &&
                                      rd.hard_state->vote == mirror_hard_state_.vote));
  auto write = [&](store::WriteTxn& txn) {
    // The log's snapshot first: if a crash comes before the application's
    // restore below, start() sees the application behind the stored
    // snapshot and restores it from there.
    if (rd.snapshot) log_store_->save_snapshot(txn, *rd.snapshot, store::RaftLogStore::kDiscardAll);
    if (snapshot_ok) log_store_->save_addresses(txn, snapshot_addresses);
    log_store_->append(txn, rd.entries);
    if (rd.hard_state) log_store_->save_hard_state(txn, *rd.hard_state);
    for (const auto* record : driver_records) apply_driver_record(txn, *record);
    for (const auto& entry : rd.committed_entries) {
      if (entry.type == raft::EntryType::kRemoveVoter) forget_member(txn, entry);
    }
    if (!app_entries.empty()) state_machine_.write_staged(txn);
  };
  if (redoable) {
    env_.write_undoable(write);
  } else {
    env_.write(write);
  }
  if (rd.hard_state) mirror_hard_state_ = *rd.hard_state;
  if (!app_entries.empty()) state_machine_.publish_staged();
  if (snapshot_ok) {
    state_machine_.restore(snapshot_app, rd.snapshot->meta.index);
    std::lock_guard lock(book_mutex_);
    merge_book(book_, decode_book(snapshot_addresses));
  }
  auto& m = driver_metrics();
  m.persist_seconds.observe(std::chrono::duration<double>(Clock::now() - start).count());
  m.ready_batches.inc();
  m.entries_persisted.inc(static_cast<double>(rd.entries.size()));
}

void RaftDriver::apply_driver_record(store::WriteTxn& txn, const raft::Entry& entry) {
  if (entry.data.size() < 2) return;
  std::string body = entry.data.substr(2);
  std::string encoded;
  if (entry.data[1] == cluster::format::kDriverAddressRecord) {
    std::string error;
    auto voters = parse_voters(body, &error);
    if (!voters || voters->size() != 1) {
      LOG_WARN("raft") << "ignoring malformed address record at " << entry.index.value;
      return;
    }
    std::lock_guard lock(book_mutex_);
    book_.addresses[(*voters)[0].node_id] = (*voters)[0].http;
    encoded = encode_book(book_);
  } else if (entry.data[1] == cluster::format::kDriverJoinedRecord) {
    uint64_t id = std::strtoull(body.c_str(), nullptr, 10);
    std::lock_guard lock(book_mutex_);
    if (id == 0 || !book_.initialized.insert(id).second) return;
    encoded = encode_book(book_);
  } else {
    return;  // an opaque payload
  }
  log_store_->save_addresses(txn, encoded);
}

void RaftDriver::forget_member(store::WriteTxn& txn, const raft::Entry& entry) {
  // A removed member may come back with an empty data dir as a new one.
  auto id = raft::decode_node_id(entry.data);
  if (!id) return;
  std::string encoded;
  {
    std::lock_guard lock(book_mutex_);
    if (book_.initialized.erase(id->value) == 0) return;
    encoded = encode_book(book_);
  }
  log_store_->save_addresses(txn, encoded);
}

void RaftDriver::on_persisted(std::shared_ptr<raft::Ready> rd) {
  if (stopped_) return;
  if (rd->snapshot) mirror_.apply_snapshot(*rd->snapshot);
  if (!rd->entries.empty()) mirror_.append(rd->entries);
  if (rd->hard_state) {
    mirror_.set_hard_state(*rd->hard_state);
    persisted_hard_state_ = *rd->hard_state;
  }
  track_peers();
  for (auto& m : rd->messages) {
    auto it = senders_.find(m.to.value);
    if (it != senders_.end()) it->second->send(std::move(m));
  }
  if (!rd->committed_entries.empty()) {
    uint64_t last = rd->committed_entries.back().index.value;
    // Views first, then the applied index, then the proposals: whoever a
    // completion or wait_applied() wakes finds both moved (a relayed write
    // is answered with applied_index(), see LeaderForwarder).
    for (auto& fn : applied_listeners_) fn(raft::LogIndex(last));
    {
      std::lock_guard lock(applied_mutex_);
      applied_ = last;
    }
    applied_cv_.notify_all();
    for (const auto& entry : rd->committed_entries) complete_waiters(entry);
  } else if (rd->snapshot) {
    for (auto& fn : applied_listeners_) fn(rd->snapshot->meta.index);
    {
      std::lock_guard lock(applied_mutex_);
      applied_ = std::max(applied_.load(), rd->snapshot->meta.index.value);
    }
    applied_cv_.notify_all();
  }
  node_->advance(*rd);
  disk_busy_ = false;
  update_metrics();
  maybe_snapshot();
  maybe_process_ready();
}

void RaftDriver::complete_waiters(const raft::Entry& entry) {
  auto it = waiters_.find(entry.index.value);
  if (it == waiters_.end()) return;
  Waiter waiter = std::move(it->second);
  waiters_.erase(it);
  if (waiter.term == entry.term) {
    driver_metrics().commit_seconds.observe(
        std::chrono::duration<double>(Clock::now() - waiter.proposed_at).count());
    waiter.done(ProposeOutcome{ProposeStatus::kCommitted, entry.index});
  } else {
    driver_metrics().proposals_failed.inc();
    waiter.done(ProposeOutcome{ProposeStatus::kLost, entry.index, leader_id(),
                               "another leader's entry replaced it"});
  }
}

void RaftDriver::expire_waiters() {
  auto now = Clock::now();
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->second.deadline <= now) {
      driver_metrics().proposals_failed.inc();
      it->second.done(ProposeOutcome{ProposeStatus::kTimeout, raft::LogIndex(it->first),
                                     leader_id(), "not committed within 30 s"});
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

void RaftDriver::register_proposal(const raft::ProposeResult& result, ProposeCallback done) {
  if (result.error == raft::ProposeError::kOk) {
    driver_metrics().proposals.inc();
    waiters_[result.index.value] =
        Waiter{result.term, std::move(done), Clock::now(), Clock::now() + kProposalTimeout};
    maybe_process_ready();
    return;
  }
  ProposeOutcome outcome;
  outcome.leader_hint = node_->leader();
  outcome.reason = raft::to_string(result.error);
  outcome.status = result.error == raft::ProposeError::kNotLeader ? ProposeStatus::kNotLeader
                                                                  : ProposeStatus::kRejected;
  done(outcome);
}

void RaftDriver::propose(std::string data, ProposeCallback done) {
  propose_traced(std::move(data), std::nullopt, std::move(done));
}

void RaftDriver::propose_traced(std::string data, const std::optional<trace::SpanContext>& parent,
                                ProposeCallback done) {
  if (stopped_) return done(ProposeOutcome{ProposeStatus::kShuttingDown});
  auto span = std::make_shared<trace::Span>(
      trace::tracer().start("raft.commit", trace::SpanKind::kInternal, parent));
  if (span->active()) {
    span->set("raft.entry.bytes", static_cast<int64_t>(data.size()));
    done = [span, done = std::move(done)](const ProposeOutcome& outcome) {
      if (outcome.status != ProposeStatus::kCommitted) span->fail(outcome.reason);
      span->set("raft.index", static_cast<int64_t>(outcome.index.value));
      span->end();
      done(outcome);
    };
  }
  register_proposal(node_->propose(std::move(data)), std::move(done));
}

void RaftDriver::propose_add_voter(raft::NodeId id, HostPort address, ProposeCallback done) {
  if (stopped_) return done(ProposeOutcome{ProposeStatus::kShuttingDown});
  // First replicate the new voter's address, then the configuration change,
  // so every node can reach it as soon as it counts toward the quorum.
  std::string record =
      std::string{cluster::format::kDriverRecordMarker, cluster::format::kDriverAddressRecord} +
      std::to_string(id.value) + "@" + address.to_string();
  register_proposal(node_->propose(record), [this, id, done](const ProposeOutcome& outcome) {
    if (outcome.status != ProposeStatus::kCommitted) return done(outcome);
    register_proposal(node_->propose_add_voter(id), done);
  });
}

void RaftDriver::propose_remove_voter(raft::NodeId id, ProposeCallback done) {
  if (stopped_) return done(ProposeOutcome{ProposeStatus::kShuttingDown});
  register_proposal(node_->propose_remove_voter(id), std::move(done));
}

raft::ProposeError RaftDriver::transfer_leadership(raft::NodeId target) {
  auto error = node_->transfer_leadership(target);
  maybe_process_ready();
  return error;
}

ProposeOutcome RaftDriver::propose_and_wait(std::string data, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<ProposeOutcome>>();
  auto future = promise->get_future();
  // The REST call that waits here is the commit's parent in a trace.
  loop_.post([this, data = std::move(data), promise, parent = trace::current_context()]() mutable {
    propose_traced(std::move(data), parent,
                   [promise](const ProposeOutcome& o) { promise->set_value(o); });
  });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return ProposeOutcome{ProposeStatus::kTimeout, {}, leader_id(), "timed out"};
  }
  return future.get();
}

raft::Status RaftDriver::status() const {
  return node_->status();
}

std::optional<HostPort> RaftDriver::address_of(raft::NodeId id) const {
  std::lock_guard lock(book_mutex_);
  auto it = book_.addresses.find(id.value);
  if (it == book_.addresses.end()) return std::nullopt;
  return it->second;
}

bool RaftDriver::wait_applied(raft::LogIndex index, std::chrono::milliseconds timeout) {
  std::unique_lock lock(applied_mutex_);
  return applied_cv_.wait_for(lock, timeout, [&] { return applied_.load() >= index.value; });
}

void RaftDriver::track_peers() {
  // One sender per voter other than this node, created as voters appear.
  for (auto id : node_->status().voters) {
    if (id == config_.id || senders_.count(id.value)) continue;
    auto address = address_of(id);
    if (!address) continue;  // its address record is not applied yet
    senders_[id.value] = std::make_unique<net::PeerSender>(id, *address);
  }
}

void RaftDriver::maybe_snapshot() {
  uint64_t applied = applied_.load();
  if (snapshot_in_flight_ || applied < last_snapshot_index_ + config_.snapshot_every_entries)
    return;
  snapshot_in_flight_ = true;
  raft::SnapshotMeta meta = node_->snapshot_meta(raft::LogIndex(applied));
  uint64_t compact_to = applied > config_.entries_kept_after_snapshot
                            ? applied - config_.entries_kept_after_snapshot
                            : 0;
  auto snapshot = std::make_shared<raft::Snapshot>();
  snapshot->meta = meta;
  // Runs after every Ready already queued, so the state read is exactly `applied`.
  disk_.post([this, snapshot, compact_to] {
    std::string addresses;
    {
      std::lock_guard lock(book_mutex_);
      addresses = encode_book(book_);
    }
    snapshot->data = wrap_snapshot(addresses, state_machine_.snapshot());
    env_.write([&](store::WriteTxn& txn) {
      log_store_->save_snapshot(txn, *snapshot, raft::LogIndex(compact_to));
    });
    loop_.post([this, snapshot, compact_to] {
      if (stopped_) return;
      snapshot_in_flight_ = false;
      if (snapshot->meta.index.value < mirror_.first_index().value) return;
      mirror_.create_snapshot(snapshot->meta, snapshot->data);
      if (compact_to >= mirror_.first_index().value) mirror_.compact(raft::LogIndex(compact_to));
      last_snapshot_index_ = snapshot->meta.index.value;
      LOG_INFO("raft") << "snapshot at index " << snapshot->meta.index.value << " ("
                       << snapshot->data.size() << " bytes), log compacted to " << compact_to;
    });
  });
}

bool RaftDriver::has_joined(raft::NodeId id) const {
  std::lock_guard lock(book_mutex_);
  return book_.initialized.count(id.value) > 0;
}

void RaftDriver::maybe_mark_joined() {
  // The leader records, once per member, that it holds part of the log. A
  // node that later starts with an empty data dir asks its peers about this
  // record to learn that it was wiped (and must not vote as new).
  auto status = node_->status();
  if (status.role != raft::Role::kLeader) return;
  for (const auto& peer : status.peers) {
    if (peer.match == raft::LogIndex(0) || has_joined(peer.id) ||
        joined_proposed_.count(peer.id.value)) {
      continue;
    }
    joined_proposed_.insert(peer.id.value);
    std::string record =
        std::string{cluster::format::kDriverRecordMarker, cluster::format::kDriverJoinedRecord} +
        std::to_string(peer.id.value);
    register_proposal(node_->propose(record), [this, id = peer.id](const ProposeOutcome& o) {
      if (o.status != ProposeStatus::kCommitted) joined_proposed_.erase(id.value);
    });
  }
}

void RaftDriver::update_metrics() {
  auto status = node_->status();
  auto& m = driver_metrics();
  if (status.leader.value != leader_.load()) {
    LOG_INFO("raft") << "leader is now " << status.leader.value << " (term " << status.term.value
                     << ")";
  }
  leader_ = status.leader.value;
  m.term.set(static_cast<double>(status.term.value));
  m.leader.set(static_cast<double>(status.leader.value));
  m.commit.set(static_cast<double>(status.commit.value));
  m.applied.set(static_cast<double>(applied_.load()));
  // Roles are sampled (every tick and Ready), so a campaign that won between
  // two samples is seen as follower -> leader: count it as started too.
  uint64_t role = static_cast<uint64_t>(status.role);
  bool was_campaigning = last_role_ == static_cast<uint64_t>(raft::Role::kPreCandidate) ||
                         last_role_ == static_cast<uint64_t>(raft::Role::kCandidate);
  if (role != last_role_) {
    if (status.role == raft::Role::kPreCandidate || status.role == raft::Role::kCandidate) {
      if (!was_campaigning) m.elections_started.inc();
    } else if (status.role == raft::Role::kLeader) {
      if (!was_campaigning) m.elections_started.inc();
      m.elections_won.inc();
    }
    last_role_ = role;
  }
}

}  // namespace dmq::controller
