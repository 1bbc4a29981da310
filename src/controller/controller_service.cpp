#include "controller/controller_service.h"

#include <httplib.h>

#include <charconv>
#include <future>
#include <random>

#include "cluster/json_views.h"
#include "cluster/placement.h"
#include "cluster/records.h"
#include "cluster/validation.h"
#include "common/log.h"
#include "common/metrics.h"
#include "net/json_body.h"
#include "trace/tracer.h"

namespace dmq::controller {
namespace {

constexpr auto kTick = std::chrono::milliseconds(200);
constexpr int64_t kRebalanceIntervalMs = 1000;
constexpr auto kProposalWait = std::chrono::seconds(35);

std::string random_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // variant 1
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffull));
  return buf;
}

uint32_t random_u32() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return rng();
}

// Reads an integer member; nullopt if absent, an error response if mistyped.
std::optional<net::HttpResponse> read_int(const rapidjson::Value& body, const char* key,
                                          int64_t min, int64_t max, std::optional<int64_t>* out) {
  auto it = body.FindMember(key);
  if (it == body.MemberEnd()) return std::nullopt;
  if (!it->value.IsInt64() || it->value.GetInt64() < min || it->value.GetInt64() > max) {
    return net::json_error(400, "invalid_request",
                           std::string("\"") + key + "\" must be an integer in " +
                               std::to_string(min) + ".." + std::to_string(max));
  }
  *out = it->value.GetInt64();
  return std::nullopt;
}

std::optional<net::HttpResponse> read_string(const rapidjson::Value& body, const char* key,
                                             bool required, std::string* out) {
  auto it = body.FindMember(key);
  if (it == body.MemberEnd()) {
    if (!required) return std::nullopt;
    return net::json_error(400, "invalid_request", std::string("\"") + key + "\" is required");
  }
  if (!it->value.IsString()) {
    return net::json_error(400, "invalid_request", std::string("\"") + key + "\" must be a string");
  }
  *out = std::string(it->value.GetString(), it->value.GetStringLength());
  return std::nullopt;
}

// "listeners" of a broker registration: absent (an older broker) or an
// array of {name, host, port, security_protocol}.
std::optional<net::HttpResponse> read_listeners(const rapidjson::Value& body,
                                                std::vector<cluster::BrokerListener>* out) {
  auto it = body.FindMember("listeners");
  if (it == body.MemberEnd()) return std::nullopt;
  auto bad = [] {
    return net::json_error(400, "invalid_request",
                           "\"listeners\" must be an array of {name, host, port (1..65535), "
                           "security_protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)}");
  };
  if (!it->value.IsArray() || it->value.Size() > 64) return bad();
  for (const auto& item : it->value.GetArray()) {
    if (!item.IsObject()) return bad();
    cluster::BrokerListener l;
    std::optional<int64_t> port;
    if (read_string(item, "name", true, &l.name) || read_string(item, "host", true, &l.host) ||
        read_string(item, "security_protocol", true, &l.security_protocol) ||
        read_int(item, "port", 1, 65535, &port) || !port || l.name.empty()) {
      return bad();
    }
    const std::string& p = l.security_protocol;
    if (p != "PLAINTEXT" && p != "SSL" && p != "SASL_PLAINTEXT" && p != "SASL_SSL") return bad();
    l.port = static_cast<uint16_t>(*port);
    out->push_back(std::move(l));
  }
  return std::nullopt;
}

// A required integer member in [min, max], or kInvalidRequest naming it.
cluster::Result<int64_t> required_int(const rapidjson::Value& body, const char* key, int64_t min,
                                      int64_t max) {
  auto it = body.FindMember(key);
  if (it == body.MemberEnd() || !it->value.IsInt64() || it->value.GetInt64() < min ||
      it->value.GetInt64() > max) {
    return cluster::Error{cluster::ErrorCode::kInvalidRequest,
                          std::string("\"") + key + "\" must be an integer in " +
                              std::to_string(min) + ".." + std::to_string(max)};
  }
  return it->value.GetInt64();
}

// How many times a producer-id allocation is planned again after its record
// lost the block start to another allocation (e.g. one the previous leader
// committed that this new leader had not applied yet when it planned).
constexpr int kProducerIdAttempts = 3;

}  // namespace

net::HttpResponse cluster_error(const cluster::Error& error) {
  return net::HttpResponse{cluster::error_http_status(error.code), cluster::error_json(error)};
}

cluster::Result<cluster::AlterPartitionRequest> parse_alter_partition_request(
    const rapidjson::Value& body) {
  using cluster::Error;
  using cluster::ErrorCode;
  cluster::AlterPartitionRequest r;
  auto broker = required_int(body, "broker_id", 0, INT32_MAX);
  auto broker_epoch = required_int(body, "broker_epoch", 0, INT64_MAX);
  auto partition = required_int(body, "partition", 0, INT32_MAX);
  auto leader_epoch = required_int(body, "leader_epoch", 0, INT32_MAX);
  auto partition_epoch = required_int(body, "partition_epoch", 0, INT32_MAX);
  for (const auto* field : {&broker, &broker_epoch, &partition, &leader_epoch, &partition_epoch}) {
    if (!field->ok()) return field->error();
  }
  auto topic = body.FindMember("topic");
  if (topic == body.MemberEnd() || !topic->value.IsString()) {
    return Error{ErrorCode::kInvalidRequest, "\"topic\" must be a string"};
  }
  auto isr = body.FindMember("isr");
  if (isr == body.MemberEnd() || !isr->value.IsArray()) {
    return Error{ErrorCode::kInvalidRequest, "\"isr\" must be an array of broker ids"};
  }
  for (const auto& id : isr->value.GetArray()) {
    if (!id.IsInt() || id.GetInt() < 0) {
      return Error{ErrorCode::kInvalidRequest, "\"isr\" must hold broker ids (integers >= 0)"};
    }
    r.new_isr.push_back(cluster::BrokerId{id.GetInt()});
  }
  r.broker = cluster::BrokerId{static_cast<int32_t>(broker.value())};
  r.broker_epoch = cluster::BrokerEpoch{broker_epoch.value()};
  r.topic.assign(topic->value.GetString(), topic->value.GetStringLength());
  r.partition = cluster::PartitionId{static_cast<int32_t>(partition.value())};
  r.leader_epoch = cluster::LeaderEpoch{static_cast<int32_t>(leader_epoch.value())};
  r.partition_epoch = cluster::PartitionEpoch{static_cast<int32_t>(partition_epoch.value())};
  return r;
}

std::string altered_partition_json(const cluster::AlterPartitionRequest& request) {
  std::string isr;
  for (cluster::BrokerId id : request.new_isr) {
    isr += (isr.empty() ? "" : ",") + std::to_string(id.value);
  }
  return "{\"leader\":" + std::to_string(request.broker.value) +
         ",\"leader_epoch\":" + std::to_string(request.leader_epoch.value) +
         ",\"partition_epoch\":" + std::to_string(request.partition_epoch.value + 1) +
         ",\"isr\":[" + isr + "]}";
}

ControllerService::ControllerService(net::EventLoop& loop, RaftDriver& driver,
                                     cluster::MetadataRaftAdapter& metadata,
                                     LeaderForwarder& forwarder, const Options& options)
    : loop_(loop),
      driver_(driver),
      metadata_(metadata),
      forwarder_(forwarder),
      options_(options),
      timer_(loop.context()),
      broker_watch_(loop.context(), [this] {
        // A broker process is gone: fence it now rather than on the next tick.
        if (!stopped_ && maybe_follow_leadership(now_ms())) maybe_fence_or_rebalance(now_ms());
      }) {
  registry_options_.session_timeout_ms = options.broker_session_timeout_ms;
}

int64_t ControllerService::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void ControllerService::start() {
  // PBKDF2 for each bootstrap user, once, before the loop serves anyone.
  load_scram_bootstrap();
  tick();
}

void ControllerService::stop() {
  stopped_ = true;
  timer_.cancel();
  broker_watch_.stop();
}

void ControllerService::tick() {
  if (stopped_) return;
  int64_t now = now_ms();
  maybe_follow_leadership(now);
  update_broker_watch();
  if (registry_ && driver_.applied_index().value >= background_in_flight_until_)
    maybe_bootstrap_scram();
  maybe_fence_or_rebalance(now);
  update_reassignment_gauge();
  timer_.expires_after(kTick);
  timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec) tick();
  });
}

void ControllerService::maybe_fence_or_rebalance(int64_t now) {
  if (!registry_ || driver_.applied_index().value < background_in_flight_until_) return;
  cluster::RecordBatch batch;
  const char* what = "fence expired or gone brokers";
  auto gone = broker_watch_.gone();
  metadata_.with_state([&](const cluster::MetadataState& state) {
    batch = registry_->expired_brokers(state, now, gone);
    if (batch.empty()) {
      for (auto& change : cluster::reassignment_completions(state)) batch.push_back(change);
      what = "complete reassignments";
    }
    if (batch.empty() && options_.auto_leader_rebalance_enable && now >= next_rebalance_ms_) {
      next_rebalance_ms_ = now + kRebalanceIntervalMs;
      batch = cluster::preferred_leader_moves(state);
      what = "restore preferred leaders";
    }
  });
  if (!batch.empty()) propose_background(std::move(batch), what);
}

void ControllerService::update_reassignment_gauge() {
  static auto& in_progress = metrics::registry().gauge(
      "dmq_controller_reassignments_in_progress",
      "Partitions whose reassignment has started and not completed (this node's image)");
  int64_t n = 0;
  metadata_.with_state([&](const cluster::MetadataState& state) {
    for (const auto& [name, topic] : state.image().topics) {
      for (const auto& p : topic.partitions) n += p.reassigning() ? 1 : 0;
    }
  });
  in_progress.set(static_cast<double>(n));
}

void ControllerService::update_broker_watch() {
  std::vector<WatchTarget> targets;
  metadata_.with_state([&](const cluster::MetadataState& state) {
    for (const auto& [id, b] : state.image().brokers) {
      targets.push_back(WatchTarget{id, b.epoch, b.kafka_host, b.kafka_port});
    }
  });
  broker_watch_.update(targets);
}

bool ControllerService::maybe_follow_leadership(int64_t now) {
  bool leading = driver_.status().role == raft::Role::kLeader;
  if (leading && !registry_) {
    // KIP-631: a new leader never saw the brokers' heartbeats; give every
    // broker a full session before fencing anyone.
    registry_.emplace(registry_options_);
    metadata_.with_state(
        [&](const cluster::MetadataState& state) { registry_->reset_grace_period(state, now); });
    next_rebalance_ms_ = now + kRebalanceIntervalMs;
    background_in_flight_until_ = 0;
    LOG_INFO("controller") << "leading the controller quorum; broker sessions restarted";
  } else if (!leading && registry_) {
    registry_.reset();
    scram_bootstrapped_ = false;
  }
  return leading;
}

void ControllerService::propose_background(cluster::RecordBatch batch, const char* what) {
  LOG_INFO("controller") << "proposing: " << what << " (" << batch.size() << " records)";
  // Until this batch is applied, the registry's view is stale: hold further
  // background proposals (the registry also guards against repeats).
  background_in_flight_until_ = UINT64_MAX;
  driver_.propose(cluster::encode_batch(batch), [this](const ProposeOutcome& outcome) {
    background_in_flight_until_ =
        outcome.status == ProposeStatus::kCommitted ? outcome.index.value : 0;
  });
}

net::HttpResponse ControllerService::propose_and_wait(const Planner& plan,
                                                      const Renderer& on_success) {
  auto promise = std::make_shared<std::promise<net::HttpResponse>>();
  auto future = promise->get_future();
  // The REST call waiting here is the commit's parent in a trace.
  loop_.post([this, plan, on_success, promise, parent = trace::current_context()] {
    if (!maybe_follow_leadership(now_ms())) {
      return promise->set_value(net::json_error(503, "not_leader", "leadership moved; retry"));
    }
    std::optional<cluster::Result<cluster::RecordBatch>> planned;
    metadata_.with_state([&](const cluster::MetadataState& state) { planned = plan(state); });
    if (!planned->ok()) return promise->set_value(cluster_error(planned->error()));
    cluster::RecordBatch batch = std::move(*planned).value();
    if (batch.empty()) return promise->set_value(on_success(driver_.applied_index()));
    driver_.propose_traced(
        cluster::encode_batch(batch), parent,
        [this, promise, on_success](const ProposeOutcome& outcome) {
          if (outcome.status != ProposeStatus::kCommitted) {
            return promise->set_value(net::json_error(
                503, "not_committed",
                "the change was not committed: " +
                    (outcome.reason.empty() ? std::string("retry") : outcome.reason)));
          }
          // Committed, but a record may still be refused at apply time (a
          // concurrent change won the race): report what the state machine did.
          auto applied = metadata_.outcome(outcome.index);
          if (applied && !applied->ok()) return promise->set_value(cluster_error(applied->error()));
          promise->set_value(on_success(outcome.index));
        });
  });
  if (future.wait_for(kProposalWait) != std::future_status::ready) {
    return net::json_error(503, "timeout", "the change was not committed in time");
  }
  return future.get();
}

net::HttpResponse ControllerService::handle_create_topic(const httplib::Request& req) {
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  auto parsed = cluster::parse_create_topic_request(doc, options_.num_partitions,
                                                    options_.default_replication_factor);
  if (!parsed) return cluster_error(parsed.error());
  cluster::CreateTopicRequest request = std::move(parsed).value();
  std::string topic_id = random_uuid();
  uint32_t random = random_u32();
  bool validate_only =
      req.has_param("validate_only") && req.get_param_value("validate_only") == "true";
  return propose_and_wait(
      [=](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        auto record = cluster::plan_create_topic(state, request, topic_id, random);
        if (!record) return record.error();
        if (validate_only) return cluster::RecordBatch{};
        return cluster::RecordBatch{std::move(record).value()};
      },
      [this, name = request.name](raft::LogIndex) {
        std::optional<std::string> body;
        metadata_.with_state(
            [&](const cluster::MetadataState& state) { body = cluster::topic_json(state, name); });
        if (!body) body = "{\"name\":\"" + name + "\"}";  // validate_only
        return net::HttpResponse{201, *body};
      });
}

net::HttpResponse ControllerService::handle_delete_topic(const httplib::Request& req) {
  std::string name = req.matches[1];
  return propose_and_wait(
      [name](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        auto record = cluster::plan_delete_topic(state, name);
        if (!record) return record.error();
        return cluster::RecordBatch{std::move(record).value()};
      },
      [name](raft::LogIndex) {
        return net::HttpResponse{200, "{\"deleted\":\"" + name + "\"}"};
      });
}

// 200 with the topic as GET /v1/topics/{name} shows it, once a change applied.
net::HttpResponse ControllerService::topic_state_response(const std::string& name) {
  std::optional<std::string> body;
  metadata_.with_state(
      [&](const cluster::MetadataState& state) { body = cluster::topic_json(state, name); });
  return net::HttpResponse{200, body.value_or("{}")};
}

net::HttpResponse ControllerService::handle_create_partitions(const httplib::Request& req) {
  std::string name = req.matches[1];
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  std::optional<int64_t> count;
  if (auto error = read_int(doc, "count", 1, cluster::kMaxPartitions, &count)) return *error;
  if (!count) return net::json_error(400, "invalid_request", "\"count\" is required");
  bool validate_only =
      req.has_param("validate_only") && req.get_param_value("validate_only") == "true";
  uint32_t random = random_u32();
  int64_t total = *count;
  return propose_and_wait(
      [=](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        auto record = cluster::plan_create_partitions(state, name, total, random);
        if (!record) return record.error();
        if (validate_only) return cluster::RecordBatch{};
        return cluster::RecordBatch{std::move(record).value()};
      },
      [this, name](raft::LogIndex) { return topic_state_response(name); });
}

// {"configs":{"retention.ms":"86400000","cleanup.policy":null}}: sets the
// string values and deletes the null ones (a ConfigChangeRecord).
net::HttpResponse ControllerService::handle_alter_topic_configs(const httplib::Request& req) {
  std::string name = req.matches[1];
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  auto configs = doc.FindMember("configs");
  if (configs == doc.MemberEnd() || !configs->value.IsObject())
    return net::json_error(400, "invalid_request", "\"configs\" must be an object");
  std::map<std::string, std::optional<std::string>> changes;
  for (const auto& m : configs->value.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    if (m.value.IsNull()) {
      changes[key] = std::nullopt;
    } else if (m.value.IsString()) {
      changes[key] = std::string(m.value.GetString(), m.value.GetStringLength());
    } else {
      return net::json_error(400, "invalid_config",
                             "config \"" + key + "\" must be a string or null");
    }
  }
  bool validate_only =
      req.has_param("validate_only") && req.get_param_value("validate_only") == "true";
  return propose_and_wait(
      [=](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        auto record =
            cluster::plan_config_change(state, cluster::ConfigResource::kTopic, name, changes);
        if (!record) return record.error();
        if (validate_only) return cluster::RecordBatch{};
        return cluster::RecordBatch{std::move(record).value()};
      },
      [this, name](raft::LogIndex) { return topic_state_response(name); });
}

net::HttpResponse ControllerService::handle_register(const httplib::Request& req) {
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  std::optional<int64_t> id, kafka_port, http_port;
  cluster::BrokerRegistrationRequest request;
  std::optional<net::HttpResponse> error;
  if ((error = read_int(doc, "broker_id", 0, INT32_MAX, &id)) ||
      (error = read_int(doc, "kafka_port", 1, 65535, &kafka_port)) ||
      (error = read_int(doc, "http_port", 1, 65535, &http_port)) ||
      (error = read_string(doc, "incarnation_id", true, &request.incarnation_id)) ||
      (error = read_string(doc, "kafka_host", true, &request.kafka_host)) ||
      (error = read_string(doc, "http_host", true, &request.http_host)) ||
      (error = read_string(doc, "rack", false, &request.rack)) ||
      (error = read_listeners(doc, &request.listeners))) {
    return *error;
  }
  if (!id || !kafka_port || !http_port) {
    return net::json_error(400, "invalid_request",
                           "broker_id, kafka_port and http_port are required");
  }
  request.broker_id = cluster::BrokerId{static_cast<int32_t>(*id)};
  request.kafka_port = static_cast<uint16_t>(*kafka_port);
  request.http_port = static_cast<uint16_t>(*http_port);
  return propose_and_wait(
      [this,
       request](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        return registry_->handle_register(state, request, now_ms());
      },
      [](raft::LogIndex index) {
        // The broker epoch is the index of the committed registration.
        return net::HttpResponse{200, "{\"broker_epoch\":" + std::to_string(index.value) + "}"};
      });
}

net::HttpResponse ControllerService::handle_heartbeat(const httplib::Request& req) {
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  std::optional<int64_t> id, epoch, applied;
  std::optional<net::HttpResponse> error;
  if ((error = read_int(doc, "broker_id", 0, INT32_MAX, &id)) ||
      (error = read_int(doc, "broker_epoch", 0, INT64_MAX, &epoch)) ||
      (error = read_int(doc, "metadata_applied_index", 0, INT64_MAX, &applied))) {
    return *error;
  }
  if (!id || !epoch)
    return net::json_error(400, "invalid_request", "broker_id and broker_epoch are required");
  auto shutdown = doc.FindMember("want_shutdown");
  bool want_shutdown =
      shutdown != doc.MemberEnd() && shutdown->value.IsBool() && shutdown->value.GetBool();
  cluster::BrokerId broker{static_cast<int32_t>(*id)};
  cluster::BrokerEpoch broker_epoch{*epoch};
  // By value: if the call times out, this frame is gone when the loop runs it.
  auto answer = loop_.call(
      [this, want_shutdown, broker, broker_epoch, applied]() -> net::HttpResponse {
        if (!maybe_follow_leadership(now_ms())) {
          return net::json_error(503, "not_leader", "this controller is not the leader");
        }
        net::HttpResponse response;
        cluster::RecordBatch batch;
        metadata_.with_state([&](const cluster::MetadataState& state) {
          if (want_shutdown) {
            auto result = registry_->controlled_shutdown(state, broker, broker_epoch, now_ms());
            if (!result) {
              response = cluster_error(result.error());
              return;
            }
            batch = std::move(result).value();
            response = net::HttpResponse{200, std::string("{\"shutdown_ready\":") +
                                                  (batch.empty() ? "true" : "false") + "}"};
            return;
          }
          // KIP-631: unfenced only once its metadata reached its registration.
          auto result = registry_->handle_heartbeat(
              state, broker, broker_epoch,
              cluster::LogIndex{static_cast<uint64_t>(applied.value_or(0))}, now_ms());
          if (!result) {
            response = cluster_error(result.error());
            return;
          }
          batch = std::move(result.value().propose);
          response = net::HttpResponse{
              200, std::string("{\"fenced\":") + (result.value().fenced ? "true" : "false") + "}"};
        });
        if (!batch.empty()) {
          driver_.propose(cluster::encode_batch(batch), [](const ProposeOutcome&) {});
        }
        return response;
      },
      std::chrono::milliseconds(5000));
  if (!answer) return net::json_error(503, "busy", "the controller did not answer in time");
  return *answer;
}

net::HttpResponse ControllerService::handle_alter_partition(const httplib::Request& req) {
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  auto parsed = parse_alter_partition_request(doc);
  if (!parsed) return cluster_error(parsed.error());
  cluster::AlterPartitionRequest request = std::move(parsed).value();
  // The record carries the partition epoch it was planned on; if another
  // change commits first, apply refuses this one (stale_partition_epoch)
  // rather than undo the other (KIP-497 INVALID_UPDATE_VERSION).
  return propose_and_wait(
      [request](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
        auto record = cluster::handle_alter_partition(state, request);
        if (!record) return record.error();
        return cluster::RecordBatch{std::move(record).value()};
      },
      [request](raft::LogIndex) {
        return net::HttpResponse{200, altered_partition_json(request)};
      });
}

net::HttpResponse ControllerService::handle_allocate_producer_ids(const httplib::Request& req) {
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  auto id = required_int(doc, "broker_id", 0, INT32_MAX);
  if (!id) return cluster_error(id.error());
  auto epoch = required_int(doc, "broker_epoch", 0, INT64_MAX);
  if (!epoch) return cluster_error(epoch.error());
  cluster::BrokerId broker{static_cast<int32_t>(id.value())};
  cluster::BrokerEpoch broker_epoch{epoch.value()};
  std::lock_guard lock(producer_ids_mutex_);
  net::HttpResponse response;
  for (int attempt = 0; attempt < kProducerIdAttempts; ++attempt) {
    auto planned = std::make_shared<std::optional<int64_t>>();
    response = propose_and_wait(
        [=](const cluster::MetadataState& state) -> cluster::Result<cluster::RecordBatch> {
          auto record = cluster::plan_allocate_producer_ids(state, broker, broker_epoch);
          if (!record) return record.error();
          *planned = record.value().next_block_start.value;
          return cluster::RecordBatch{std::move(record).value()};
        },
        [planned](raft::LogIndex) {
          // Applied, so [start, start + block) was the next block and is now this broker's.
          return net::HttpResponse{
              200, "{\"first_producer_id\":" + std::to_string(planned->value()) +
                       ",\"count\":" + std::to_string(cluster::kProducerIdBlockSize) + "}"};
        });
    if (response.status < 300 || !planned->has_value()) return response;
    // Refused at apply: plan again only if the block start moved meanwhile
    // (another allocation won); any other refusal is final.
    bool moved = false;
    metadata_.with_state([&](const cluster::MetadataState& state) {
      moved = state.image().next_producer_id.value != planned->value();
    });
    if (!moved || response.status >= 500) return response;
  }
  return response;
}

void ControllerService::register_routes(net::HttpServer& http) {
  auto forwarded =
      [this](net::HttpResponse (ControllerService::*handler)(const httplib::Request&)) {
        return [this, handler](const httplib::Request& req) {
          return forwarder_.forward_or_run(req, [&] { return (this->*handler)(req); });
        };
      };
  http.post("/v1/topics", forwarded(&ControllerService::handle_create_topic));
  http.del(R"(/v1/topics/([^/]+))", forwarded(&ControllerService::handle_delete_topic));
  http.post(R"(/v1/topics/([^/]+)/partitions)",
            forwarded(&ControllerService::handle_create_partitions));
  http.post(R"(/v1/topics/([^/]+)/configs)",
            forwarded(&ControllerService::handle_alter_topic_configs));
  http.post("/v1/scram-users", forwarded(&ControllerService::handle_upsert_scram_user));
  http.del(R"(/v1/scram-users/([^/]+))", forwarded(&ControllerService::handle_delete_scram_user));
  http.post(R"(/v1/topics/([^/]+)/partitions/([0-9]{1,9})/reassign)",
            forwarded(&ControllerService::handle_reassign_partition));
  http.get("/v1/reassignments",
           [this](const httplib::Request& req) { return handle_list_reassignments(req); });
  http.post("/v1/rebalance", forwarded(&ControllerService::handle_rebalance));
  http.post("/v1/elect-leaders", forwarded(&ControllerService::handle_elect_leaders));
  http.post("/v1/acls", forwarded(&ControllerService::handle_create_acl));
  http.del("/v1/acls", forwarded(&ControllerService::handle_delete_acls));
  http.post("/v1/quotas", forwarded(&ControllerService::handle_alter_quotas));
  http.post("/internal/brokers/register", forwarded(&ControllerService::handle_register));
  http.post("/internal/brokers/heartbeat", forwarded(&ControllerService::handle_heartbeat));
  http.post("/internal/partitions/alter", forwarded(&ControllerService::handle_alter_partition));
  http.post("/internal/producer-ids", forwarded(&ControllerService::handle_allocate_producer_ids));
}

}  // namespace dmq::controller
