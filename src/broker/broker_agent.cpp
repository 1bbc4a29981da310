#include "broker/broker_agent.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <algorithm>

#include <future>
#include <random>

#include "cluster/record_format.h"
#include "common/base64.h"
#include "common/json_escape.h"
#include "common/log.h"
#include "common/metrics.h"
#include "net/cluster_http.h"
#include "store/lmdb.h"

namespace dmq::broker {
namespace {

using std::chrono::milliseconds;
constexpr auto kMaxBackoff = milliseconds(5000);
constexpr auto kShutdownWait = std::chrono::seconds(10);
constexpr int kTailWaitMs = 5000;

std::string new_incarnation_id() {
  std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

milliseconds with_jitter(milliseconds base) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return base + milliseconds(rng() % (base.count() / 2 + 1));
}

std::unique_ptr<net::PeerClient> client_for(const HostPort& address, milliseconds read_timeout) {
  auto client = std::make_unique<net::PeerClient>(address.host, address.port);
  httplib::Client& http = client->http();
  http.set_keep_alive(true);
  http.set_connection_timeout(0, 500000);
  http.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(read_timeout).count(),
                        (read_timeout.count() % 1000) * 1000);
  http.set_tcp_nodelay(true);
  return client;
}

}  // namespace

BrokerAgent::BrokerAgent(net::EventLoop& loop, const Options& options, broker::MetadataView& view,
                         cluster::MetadataStore* tail_store)
    : loop_(loop),
      options_(options),
      view_(view),
      tail_store_(tail_store),
      incarnation_id_(new_incarnation_id()) {
  view_.set_local_incarnation(incarnation_id_);
}

BrokerAgent::~BrokerAgent() {
  stop();
}

void BrokerAgent::start() {
  if (tail_store_) publish_from_store();
  session_thread_ = std::thread([this] { run_session(); });
  if (tail_store_) tail_thread_ = std::thread([this] { run_tail(); });
}

void BrokerAgent::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (session_thread_.joinable()) session_thread_.join();
  if (tail_thread_.joinable()) tail_thread_.join();
}

bool BrokerAgent::sleep_for(milliseconds duration) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, duration, [this] { return stopping_; });
  return !stopping_;
}

void BrokerAgent::shutdown_then(std::function<void()> done) {
  if (broker_epoch_.load() < 0) return done();  // never registered: nothing to hand over
  LOG_INFO("broker") << "controlled shutdown: moving leaderships away";
  want_shutdown_ = true;
  wake_.notify_all();
  // Poll on a helper thread; the loop keeps serving meanwhile (in combined
  // mode the controller that answers runs on this very loop).
  std::thread([this, done = std::move(done)] {
    auto deadline = std::chrono::steady_clock::now() + kShutdownWait;
    while (!shutdown_ready_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    if (!shutdown_ready_) LOG_WARN("broker") << "controlled shutdown timed out; stopping anyway";
    loop_.post(done);
  }).detach();
}

std::optional<Voter> BrokerAgent::find_leader() {
  // Ask every controller at once; the first that names a leader wins.
  std::vector<std::future<std::optional<Voter>>> answers;
  for (const auto& controller : options_.controllers) {
    httplib::Headers headers;
    if (signer_) {
      for (auto& [name, value] : signer_("GET", "/v1/cluster", "")) headers.emplace(name, value);
    }
    answers.push_back(
        std::async(std::launch::async, [controller, headers]() -> std::optional<Voter> {
          auto client = client_for(controller.http, std::chrono::seconds(1));
          auto result = client->http().Get("/v1/cluster", headers);
          if (!result || result->status != 200) return std::nullopt;
          rapidjson::Document doc;
          doc.Parse(result->body.c_str());
          if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("leader_id") ||
              !doc["leader_id"].IsInt()) {
            return std::nullopt;
          }
          int32_t leader = doc["leader_id"].GetInt();
          if (doc.HasMember("voters") && doc["voters"].IsArray()) {
            for (const auto& v : doc["voters"].GetArray()) {
              if (v.IsObject() && v.HasMember("id") && v["id"].IsInt() &&
                  v["id"].GetInt() == leader && v.HasMember("address") && v["address"].IsString()) {
                if (auto address = parse_host_port(v["address"].GetString())) {
                  return Voter{leader, *address};
                }
              }
            }
          }
          return std::nullopt;
        }));
  }
  std::optional<Voter> leader;
  for (auto& answer : answers) {
    auto value = answer.get();
    if (value && !leader) leader = value;
  }
  return leader;
}

bool BrokerAgent::register_with(const Voter& leader) {
  auto client = client_for(leader.http, std::chrono::seconds(40));
  std::string body =
      "{\"broker_id\":" + std::to_string(options_.node_id) + ",\"incarnation_id\":\"" +
      incarnation_id_ + "\",\"kafka_host\":\"" + options_.advertised_kafka.host +
      "\",\"kafka_port\":" + std::to_string(options_.advertised_kafka.port) + ",\"http_host\":\"" +
      options_.http_listen.host + "\",\"http_port\":" + std::to_string(options_.http_listen.port) +
      ",\"listeners\":[";
  for (size_t i = 0; i < listeners_.size(); ++i) {
    const auto& l = listeners_[i];
    body += i ? ",{\"name\":\"" : "{\"name\":\"";
    append_json_escaped(body, l.name);
    body += "\",\"host\":\"";
    append_json_escaped(body, l.host);
    body += "\",\"port\":" + std::to_string(l.port) + ",\"security_protocol\":\"";
    append_json_escaped(body, l.security_protocol);
    body += "\"}";
  }
  body += "]}";
  auto result = client->post("/internal/brokers/register", body);
  if (!result) return false;
  if (result->status != 200) {
    LOG_WARN("broker") << "registration refused (HTTP " << result->status << "): " << result->body;
    return false;
  }
  rapidjson::Document doc;
  doc.Parse(result->body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("broker_epoch") ||
      !doc["broker_epoch"].IsInt64()) {
    return false;
  }
  broker_epoch_ = doc["broker_epoch"].GetInt64();
  LOG_INFO("broker") << "registered with controller " << leader.node_id << ", broker epoch "
                     << broker_epoch_.load();
  return true;
}

void BrokerAgent::run_session() {
  auto backoff = milliseconds(100);
  while (!stopping_) {
    auto leader = find_leader();
    if (!leader) {
      if (!sleep_for(with_jitter(backoff))) return;
      backoff = std::min(kMaxBackoff, backoff * 2);
      continue;
    }
    backoff = milliseconds(100);
    if (broker_epoch_.load() < 0 && !register_with(*leader)) {
      if (!sleep_for(with_jitter(milliseconds(500)))) return;
      continue;
    }
    // A frozen or partitioned leader must not hold the heartbeats longer than
    // a third of the session: a new leader's grace period is one session.
    auto client = client_for(leader->http,
                             std::clamp(milliseconds(options_.broker_session_timeout_ms / 3),
                                        milliseconds(500), milliseconds(std::chrono::seconds(5))));
    while (!stopping_) {
      std::string body = "{\"broker_id\":" + std::to_string(options_.node_id) +
                         ",\"broker_epoch\":" + std::to_string(broker_epoch_.load()) +
                         ",\"metadata_applied_index\":" + std::to_string(view_.applied_index()) +
                         ",\"want_shutdown\":" + (want_shutdown_ ? "true" : "false") + "}";
      auto result = client->post("/internal/brokers/heartbeat", body);
      if (!result || result->status == 503 || result->status >= 500)
        break;  // find the leader again
      if (result->status == 404 || result->status == 409) {
        LOG_WARN("broker") << "broker epoch " << broker_epoch_.load()
                           << " refused by the controller; registering again";
        broker_epoch_ = -1;
        break;
      }
      if (want_shutdown_ && result->body.find("\"shutdown_ready\":true") != std::string::npos) {
        shutdown_ready_ = true;
      }
      auto interval =
          want_shutdown_ ? milliseconds(200) : milliseconds(options_.broker_heartbeat_interval_ms);
      if (!sleep_for(interval)) return;
    }
  }
}

void BrokerAgent::publish_from_store() {
  auto state = std::make_shared<const cluster::MetadataState>(tail_store_->state());
  loop_.post([this, state] { view_.publish(state); });
}

void BrokerAgent::run_tail() {
  auto& lag = metrics::registry().gauge("dmq_broker_metadata_lag_entries",
                                        "Committed metadata entries not yet applied here.");
  size_t next_controller = 0;
  while (!stopping_) {
    const auto& controller = options_.controllers[next_controller % options_.controllers.size()];
    auto client = client_for(controller.http, milliseconds(kTailWaitMs) + std::chrono::seconds(5));
    uint64_t from = tail_store_->applied_index().value + 1;
    auto result = client->get("/internal/raft/entries?from=" + std::to_string(from) +
                              "&max_bytes=4194304&wait_ms=" + std::to_string(kTailWaitMs));
    rapidjson::Document doc;
    if (result && result->status == 200) doc.Parse(result->body.c_str());
    if (!result || result->status != 200 || doc.HasParseError() || !doc.IsObject()) {
      ++next_controller;  // that controller is down or not a controller: try the next
      if (!sleep_for(with_jitter(milliseconds(200)))) return;
      continue;
    }
    if (doc["snapshot_needed"].IsBool() && doc["snapshot_needed"].GetBool()) {
      auto snap = client->get("/internal/raft/snapshot");
      rapidjson::Document s;
      if (snap && snap->status == 200) s.Parse(snap->body.c_str());
      if (s.IsObject() && s.HasMember("index") && s["index"].IsUint64() && s.HasMember("data") &&
          s["data"].IsString()) {
        auto data = base64_decode(s["data"].GetString());
        if (data) {
          auto status = tail_store_->restore(*data, cluster::LogIndex{s["index"].GetUint64()});
          if (status) {
            LOG_INFO("broker") << "loaded metadata snapshot at " << s["index"].GetUint64();
            publish_from_store();
            continue;
          }
          LOG_ERROR("broker") << "metadata snapshot rejected: " << status.error().message;
        }
      }
      if (!sleep_for(milliseconds(500))) return;
      continue;
    }
    std::vector<cluster::CommittedEntry> entries;
    for (const auto& e : doc["entries"].GetArray()) {
      auto data = base64_decode(e["data"].GetString());
      if (!data) break;
      bool application_data = e["type"].GetUint() == 0 && !data->empty() &&
                              (*data)[0] != cluster::format::kDriverRecordMarker;
      entries.push_back({cluster::LogIndex{e["index"].GetUint64()},
                         application_data ? std::move(*data) : std::string()});
    }
    if (!entries.empty()) {
      try {
        tail_store_->apply_committed(entries);
      } catch (const store::StoreError& e) {
        // Disk full (ENOSPC, MAP_FULL the map cannot grow past) or EIO:
        // nothing was applied; the broker keeps its last metadata and
        // fetches the same entries again once the write may succeed.
        LOG_ERROR("broker") << "cannot store committed metadata (" << e.what()
                            << "); retrying in 1s";
        if (!sleep_for(milliseconds(1000))) return;
        continue;
      }
      publish_from_store();
    }
    uint64_t controller_applied = doc["applied_index"].GetUint64();
    lag.set(static_cast<double>(controller_applied) -
            static_cast<double>(tail_store_->applied_index().value));
  }
}

}  // namespace dmq::broker
