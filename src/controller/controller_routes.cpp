#include "controller/controller_routes.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <future>
#include <thread>

#include "common/base64.h"
#include "common/log.h"
#include "net/json_body.h"
#include "net/raft_codec.h"

namespace dmq::controller {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using std::chrono::milliseconds;

constexpr auto kLoopCallTimeout = milliseconds(5000);
constexpr auto kTransferWait = milliseconds(3000);

net::HttpResponse loop_timeout() {
  return net::json_error(503, "busy", "the node did not answer in time");
}

uint64_t query_u64(const httplib::Request& req, const char* name, uint64_t fallback) {
  if (!req.has_param(name)) return fallback;
  auto text = req.get_param_value(name);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return fallback;
  return value;
}

std::string status_json(const raft::Status& status, const std::string& cluster_id,
                        const RaftDriver& driver) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("cluster_id");
  w.String(cluster_id.c_str());
  w.Key("node_id");
  w.Uint64(status.id.value);
  w.Key("role");
  w.String(raft::to_string(status.role));
  w.Key("leader_id");
  if (status.leader == raft::kNoNode) {
    w.Null();
  } else {
    w.Uint64(status.leader.value);
  }
  w.Key("term");
  w.Uint64(status.term.value);
  w.Key("commit_index");
  w.Uint64(status.commit.value);
  w.Key("applied_index");
  w.Uint64(driver.applied_index().value);
  w.Key("first_index");
  w.Uint64(status.first_index.value);
  w.Key("last_index");
  w.Uint64(status.last_index.value);
  w.Key("voters");
  w.StartArray();
  for (auto id : status.voters) {
    w.StartObject();
    w.Key("id");
    w.Uint64(id.value);
    if (auto address = driver.address_of(id)) {
      w.Key("address");
      w.String(address->to_string().c_str());
    }
    bool is_leader = id == status.leader;
    const raft::PeerStatus* peer = nullptr;
    for (const auto& p : status.peers) {
      if (p.id == id) peer = &p;
    }
    w.Key("state");
    if (is_leader) {
      w.String("leader");
    } else if (peer) {
      w.String(peer->recent_active ? "follower" : "unreachable");
    } else {
      w.String(id == status.id ? raft::to_string(status.role) : "unknown");
    }
    if (peer) {
      w.Key("match_index");
      w.Uint64(peer->match.value);
      w.Key("next_index");
      w.Uint64(peer->next.value);
      w.Key("progress");
      w.String(raft::to_string(peer->state));
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

net::HttpResponse outcome_response(const ProposeOutcome& outcome, std::string ok_body) {
  switch (outcome.status) {
    case ProposeStatus::kCommitted:
      return {200, std::move(ok_body)};
    case ProposeStatus::kNotLeader:
      return net::json_error(503, "not_leader", "this node lost leadership; retry");
    case ProposeStatus::kLost:
      return net::json_error(503, "lost", "leadership changed before the write committed; retry");
    case ProposeStatus::kTimeout:
      return net::json_error(503, "timeout", "the write was not committed in time (no quorum?)");
    case ProposeStatus::kRejected:
      return net::json_error(409, "rejected", outcome.reason);
    case ProposeStatus::kShuttingDown:
      return net::json_error(503, "shutting_down", "the node is shutting down");
  }
  return net::json_error(500, "internal_error", "unknown outcome");
}

// Runs an asynchronous proposal on the loop and waits for its outcome.
net::HttpResponse propose_on_loop(
    net::EventLoop& loop, const std::function<void(RaftDriver::ProposeCallback)>& start,
    const std::function<std::string(const ProposeOutcome&)>& ok_body) {
  auto promise = std::make_shared<std::promise<ProposeOutcome>>();
  auto future = promise->get_future();
  loop.post(
      [start, promise] { start([promise](const ProposeOutcome& o) { promise->set_value(o); }); });
  if (future.wait_for(std::chrono::seconds(35)) != std::future_status::ready) {
    return net::json_error(503, "timeout", "the write was not committed in time");
  }
  auto outcome = future.get();
  return outcome_response(outcome, ok_body(outcome));
}

void write_entries_json(Writer& w, const std::vector<raft::Entry>& entries) {
  w.Key("entries");
  w.StartArray();
  for (const auto& e : entries) {
    w.StartObject();
    w.Key("index");
    w.Uint64(e.index.value);
    w.Key("term");
    w.Uint64(e.term.value);
    w.Key("type");
    w.Uint(static_cast<unsigned>(e.type));
    auto data = base64_encode(e.data);
    w.Key("data");
    w.String(data.data(), data.size());
    w.EndObject();
  }
  w.EndArray();
}

// Picks the target of a leadership transfer on the loop: `target`, or the
// most caught-up other voter when none was named.
std::pair<raft::ProposeError, raft::NodeId> start_transfer(RaftDriver& driver,
                                                           raft::NodeId target) {
  auto status = driver.status();
  if (target == raft::kNoNode) {
    raft::LogIndex best;
    for (const auto& p : status.peers) {
      if (p.id != status.id && (target == raft::kNoNode || p.match > best)) {
        target = p.id;
        best = p.match;
      }
    }
  }
  if (target == raft::kNoNode) return {raft::ProposeError::kInvalid, target};
  return {driver.transfer_leadership(target), target};
}

}  // namespace

ControllerRoutes::ControllerRoutes(net::EventLoop& loop, RaftDriver& driver,
                                   LeaderForwarder& forwarder, std::string cluster_id)
    : loop_(loop), driver_(driver), forwarder_(forwarder), cluster_id_(std::move(cluster_id)) {}

void ControllerRoutes::register_routes(net::HttpServer& http) {
  using Handler = net::HttpResponse (ControllerRoutes::*)(const httplib::Request&);
  auto bound = [this](Handler handler) {
    return [this, handler](const httplib::Request& req) { return (this->*handler)(req); };
  };
  auto forwarded = [this](Handler handler) {
    return [this, handler](const httplib::Request& req) {
      return forwarder_.forward_or_run(req, [&] { return (this->*handler)(req); });
    };
  };
  http.get("/v1/cluster", bound(&ControllerRoutes::handle_cluster_status));
  http.post("/v1/cluster/transfer-leader", forwarded(&ControllerRoutes::handle_transfer_leader));
  http.post("/v1/cluster/voters", forwarded(&ControllerRoutes::handle_add_voter));
  http.del(R"(/v1/cluster/voters/([^/]+))", forwarded(&ControllerRoutes::handle_remove_voter));
  http.post("/internal/raft/messages", bound(&ControllerRoutes::handle_raft_messages));
  http.post("/internal/raft/propose", forwarded(&ControllerRoutes::handle_propose));
  http.get("/internal/raft/entries", bound(&ControllerRoutes::handle_log_entries));
  http.get(R"(/internal/raft/joined/(\d+))", bound(&ControllerRoutes::handle_joined));
  http.get("/internal/raft/snapshot", bound(&ControllerRoutes::handle_snapshot));
}

net::HttpResponse ControllerRoutes::handle_raft_messages(const httplib::Request& req) {
  std::string error;
  auto messages = net::decode_raft_messages(req.body, &error);
  if (!messages) return net::json_error(400, "malformed_raft_messages", error);
  // Fire and forget: the peer needs no answer but the HTTP status.
  loop_.post([this, m = std::move(*messages)]() mutable { driver_.receive(std::move(m)); });
  return net::HttpResponse{204, ""};
}

net::HttpResponse ControllerRoutes::handle_cluster_status(const httplib::Request&) {
  auto status = loop_.call([this] { return driver_.status(); }, kLoopCallTimeout);
  if (!status) return loop_timeout();
  return net::HttpResponse{200, status_json(*status, cluster_id_, driver_)};
}

net::HttpResponse ControllerRoutes::handle_transfer_leader(const httplib::Request& req) {
  raft::NodeId target;
  if (!req.body.empty()) {
    rapidjson::Document doc;
    if (auto error = net::parse_json_object(req.body, &doc)) return *error;
    auto to = doc.FindMember("to");
    if (to != doc.MemberEnd()) {
      if (!to->value.IsUint64() || to->value.GetUint64() == 0) {
        return net::json_error(400, "invalid_voter", "\"to\" must be a positive node id");
      }
      target = raft::NodeId(to->value.GetUint64());
    }
  }
  auto chosen =
      loop_.call([this, target] { return start_transfer(driver_, target); }, kLoopCallTimeout);
  if (!chosen) return loop_timeout();
  auto [error, chosen_target] = *chosen;
  if (error != raft::ProposeError::kOk) {
    return net::json_error(error == raft::ProposeError::kInvalid ? 400 : 409, "transfer_refused",
                           std::string("leadership transfer refused: ") + raft::to_string(error));
  }
  auto deadline = std::chrono::steady_clock::now() + kTransferWait;
  while (driver_.leader_id() != chosen_target && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  if (driver_.leader_id() != chosen_target) {
    return net::json_error(
        503, "transfer_timeout",
        "node " + std::to_string(chosen_target.value) + " did not take over in 3 s");
  }
  return net::HttpResponse{200, "{\"leader_id\":" + std::to_string(chosen_target.value) + "}"};
}

net::HttpResponse ControllerRoutes::handle_add_voter(const httplib::Request& req) {
  rapidjson::Document doc;
  if (auto error = net::parse_json_object(req.body, &doc)) return *error;
  auto id = doc.FindMember("id");
  auto address = doc.FindMember("address");
  if (id == doc.MemberEnd() || !id->value.IsUint64() || id->value.GetUint64() == 0 ||
      id->value.GetUint64() > INT32_MAX) {
    return net::json_error(400, "invalid_voter", "\"id\" must be a positive node id");
  }
  if (address == doc.MemberEnd() || !address->value.IsString()) {
    return net::json_error(400, "invalid_voter", "\"address\" must be \"host:port\"");
  }
  auto host_port = parse_host_port(address->value.GetString());
  if (!host_port) return net::json_error(400, "invalid_voter", "\"address\" must be \"host:port\"");
  raft::NodeId node(id->value.GetUint64());
  return propose_on_loop(
      loop_,
      [this, node, hp = *host_port](RaftDriver::ProposeCallback done) {
        driver_.propose_add_voter(node, hp, std::move(done));
      },
      [node](const ProposeOutcome& o) {
        return "{\"added\":" + std::to_string(node.value) +
               ",\"index\":" + std::to_string(o.index.value) + "}";
      });
}

net::HttpResponse ControllerRoutes::handle_remove_voter(const httplib::Request& req) {
  uint64_t id = 0;
  const std::string text = req.matches[1];
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id == 0) {
    return net::json_error(400, "invalid_voter", "voter id must be a positive integer");
  }
  raft::NodeId node(id);
  return propose_on_loop(
      loop_,
      [this, node](RaftDriver::ProposeCallback done) {
        driver_.propose_remove_voter(node, std::move(done));
      },
      [node](const ProposeOutcome& o) {
        return "{\"removed\":" + std::to_string(node.value) +
               ",\"index\":" + std::to_string(o.index.value) + "}";
      });
}

net::HttpResponse ControllerRoutes::handle_propose(const httplib::Request& req) {
  std::string payload =
      std::string{cluster::format::kDriverRecordMarker, cluster::format::kDriverPayloadRecord} +
      req.body;
  auto outcome = driver_.propose_and_wait(std::move(payload), std::chrono::seconds(35));
  return outcome_response(outcome, "{\"index\":" + std::to_string(outcome.index.value) + "}");
}

net::HttpResponse ControllerRoutes::handle_log_entries(const httplib::Request& req) {
  uint64_t from = std::max<uint64_t>(1, query_u64(req, "from", 1));
  uint64_t max_bytes = std::clamp<uint64_t>(query_u64(req, "max_bytes", 1 << 20), 1, 16 << 20);
  uint64_t wait_ms = std::min<uint64_t>(query_u64(req, "wait_ms", 0), 30000);
  if (wait_ms > 0) driver_.wait_applied(raft::LogIndex(from), milliseconds(wait_ms));
  uint64_t applied = driver_.applied_index().value;
  std::vector<raft::Entry> entries;
  bool snapshot_needed = false;
  if (from <= applied) {
    entries = driver_.log_store().read_committed(raft::LogIndex(from), raft::LogIndex(applied),
                                                 max_bytes, &snapshot_needed);
  }
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("applied_index");
  w.Uint64(applied);
  w.Key("leader_id");
  w.Uint64(driver_.leader_id().value);
  w.Key("snapshot_needed");
  w.Bool(snapshot_needed);
  write_entries_json(w, entries);
  w.EndObject();
  return net::HttpResponse{200, std::string(buffer.GetString(), buffer.GetSize())};
}

net::HttpResponse ControllerRoutes::handle_joined(const httplib::Request& req) {
  raft::NodeId id(std::strtoull(std::string(req.matches[1]).c_str(), nullptr, 10));
  return net::HttpResponse{
      200, std::string("{\"joined\":") + (driver_.has_joined(id) ? "true" : "false") + "}"};
}

net::HttpResponse ControllerRoutes::handle_snapshot(const httplib::Request&) {
  auto snapshot = driver_.log_store().latest_snapshot();
  if (!snapshot) return net::json_error(404, "no_snapshot", "no snapshot has been taken yet");
  auto app = RaftDriver::application_snapshot(snapshot->data);
  if (!app) return net::json_error(500, "corrupt_snapshot", "the stored snapshot is malformed");
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("index");
  w.Uint64(snapshot->meta.index.value);
  w.Key("term");
  w.Uint64(snapshot->meta.term.value);
  auto data = base64_encode(*app);
  w.Key("data");
  w.String(data.data(), data.size());
  w.EndObject();
  return net::HttpResponse{200, std::string(buffer.GetString(), buffer.GetSize())};
}

}  // namespace dmq::controller
