#include "rest/share_group_io.h"
#include "net/cluster_http.h"

#include <httplib.h>
#include <rapidjson/document.h>

#include <asio.hpp>
#include <map>

namespace dmq::rest {
namespace {

using kafka::ErrorCode;

httplib::Client& client_for(const std::string& host, uint16_t port) {
  return PeerWorkers::client_for(host, port);
}

// Signed when a cluster secret is set: /internal/share/* serves cluster members only.
httplib::Headers forwarded_headers(const std::string& path, const std::string& body) {
  httplib::Headers headers = net::cluster_auth_headers("POST", path, body);
  headers.emplace(kShareForwardedHeader, "1");
  return headers;
}

int64_t header_int(const httplib::Result& r, const char* name, int64_t fallback) {
  if (!r->has_header(name)) return fallback;
  try {
    return std::stoll(r->get_header_value(name));
  } catch (const std::exception&) {
    return fallback;
  }
}

std::string query(const group::TopicPartition& tp) {
  return "topic=" + httplib::detail::encode_query_param(tp.topic) +
         "&partition=" + std::to_string(tp.partition);
}

group::ShareRead remote_read(const std::string& host, uint16_t port,
                             const group::TopicPartition& tp, int64_t offset, uint32_t max_bytes) {
  group::ShareRead out;
  std::string path = "/internal/share/read?" + query(tp) + "&offset=" + std::to_string(offset) +
                     "&max_bytes=" + std::to_string(max_bytes);
  auto r = client_for(host, port)
               .Post(path.c_str(), forwarded_headers(path, ""), "", "application/octet-stream");
  if (!r || r->status != 200) {
    out.error = ErrorCode::kNotLeaderOrFollower;  // unreachable or not the leader: try again
    return out;
  }
  out.error = static_cast<ErrorCode>(header_int(r, "X-DMQ-Error", -1));
  out.log_start_offset = header_int(r, "X-DMQ-Log-Start", -1);
  out.high_watermark = header_int(r, "X-DMQ-High-Watermark", -1);
  out.batches = std::move(r->body);
  return out;
}

// Answers once the leader saw a high watermark pass one of the offsets, or
// after wait_ms; any failure counts as an answer (the watcher looks again).
void remote_watch(const std::string& host, uint16_t port,
                  const std::map<group::TopicPartition, int64_t>& from, int wait_ms) {
  std::string body;
  for (const auto& [tp, offset] : from)
    body += std::to_string(tp.partition) + " " + std::to_string(offset) + " " + tp.topic + "\n";
  std::string path = "/internal/share/watch?wait_ms=" + std::to_string(wait_ms);
  client_for(host, port).Post(path.c_str(), forwarded_headers(path, body), body, "text/plain");
}

group::ShareAppend remote_append(const std::string& host, uint16_t port,
                                 const group::TopicPartition& tp, const std::string& batch) {
  group::ShareAppend out;
  out.error = ErrorCode::kNotLeaderOrFollower;
  std::string path = "/internal/share/append?" + query(tp);
  auto r =
      client_for(host, port)
          .Post(path.c_str(), forwarded_headers(path, batch), batch, "application/octet-stream");
  if (!r || r->status != 200) return out;
  rapidjson::Document doc;
  doc.Parse(r->body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("error") || !doc["error"].IsInt() ||
      !doc.HasMember("base_offset") || !doc["base_offset"].IsInt64())
    return out;
  out.error = static_cast<ErrorCode>(doc["error"].GetInt());
  out.base_offset = doc["base_offset"].GetInt64();
  return out;
}

}  // namespace

ShareGroupIo::ShareGroupIo(asio::io_context& io, broker::Backend& backend,
                           const broker::MetadataView& view)
    : backend_(backend),
      view_(view),
      io_(io),
      watch_workers_(io, kWatchThreads),
      workers_(io, kThreads) {}

ShareGroupIo::~ShareGroupIo() = default;

void ShareGroupIo::submit(std::function<void()> job) {
  workers_.submit(std::move(job));
}

void ShareGroupIo::post_to_loop(std::function<void()> fn) {
  workers_.post_to_loop(std::move(fn));
}

bool ShareGroupIo::leader_address(const group::TopicPartition& tp, int32_t* leader_id,
                                  std::string* host, uint16_t* port) const {
  auto image = view_.current();
  auto t = image->topics.find(tp.topic);
  if (t == image->topics.end() || tp.partition < 0 ||
      static_cast<size_t>(tp.partition) >= t->second.partitions.size())
    return false;
  auto leader = t->second.partitions[static_cast<size_t>(tp.partition)].leader;
  auto b = image->brokers.find(leader);
  if (b == image->brokers.end() || b->second.fenced) return false;
  *leader_id = leader.value;
  *host = b->second.http_host;
  *port = b->second.http_port;
  return true;
}

void ShareGroupIo::read(const group::TopicPartition& tp, int64_t offset, uint32_t max_bytes,
                        std::function<void(group::ShareRead)> done) {
  int32_t leader = -1;
  std::string host;
  uint16_t port = 0;
  if (!leader_address(tp, &leader, &host, &port)) {
    return post_to_loop([done = std::move(done)] {
      group::ShareRead r;
      r.error = ErrorCode::kLeaderNotAvailable;
      done(std::move(r));
    });
  }
  if (leader == backend_.node_id().value) {
    auto r = group::share_read_local(backend_, tp, offset, max_bytes);
    // Always later, never inside the caller's own call.
    return post_to_loop(
        [r = std::move(r), done = std::move(done)]() mutable { done(std::move(r)); });
  }
  submit([this, host, port, tp, offset, max_bytes, done = std::move(done)]() mutable {
    auto r = remote_read(host, port, tp, offset, max_bytes);
    post_to_loop([r = std::move(r), done = std::move(done)]() mutable { done(std::move(r)); });
  });
}

void ShareGroupIo::append(const group::TopicPartition& tp, std::string batch,
                          std::function<void(group::ShareAppend)> done) {
  int32_t leader = -1;
  std::string host;
  uint16_t port = 0;
  if (!leader_address(tp, &leader, &host, &port)) {
    return post_to_loop([done = std::move(done)] { done({ErrorCode::kLeaderNotAvailable, -1}); });
  }
  if (leader == backend_.node_id().value)
    return group::share_append_local(backend_, tp, std::move(batch), std::move(done));
  submit([this, host, port, tp, batch = std::move(batch), done = std::move(done)]() mutable {
    auto r = remote_append(host, port, tp, batch);
    post_to_loop([r, done = std::move(done)] { done(r); });
  });
}

void ShareGroupIo::wake_later(std::function<void()> wake) {
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(50));
  timer->async_wait([timer, wake = std::move(wake)](const asio::error_code&) { wake(); });
}

void ShareGroupIo::watch(const WatchList& from, std::chrono::milliseconds timeout,
                         std::function<void()> wake) {
  // Whichever source fires first wakes the caller; the others find it done.
  auto fired = std::make_shared<bool>(false);
  auto once = [fired, wake = std::move(wake)] {
    if (*fired) return;
    *fired = true;
    wake();
  };
  std::vector<broker::TopicPartition> local;
  std::map<int32_t, WatchList> remote;
  std::map<int32_t, std::pair<std::string, uint16_t>> address;
  for (const auto& [tp, offset] : from) {
    int32_t leader = -1;
    std::string host;
    uint16_t port = 0;
    if (!leader_address(tp, &leader, &host, &port))
      continue;  // the caller's retry timer looks again
    if (leader == backend_.node_id().value) {
      local.push_back({tp.topic, broker::PartitionId(tp.partition)});
    } else {
      remote[leader].emplace_back(tp, offset);
      address[leader] = {host, port};
    }
  }
  if (!local.empty()) backend_.park(local, timeout, broker::kConsumerReplicaId, once);
  for (const auto& [leader, list] : remote)
    watch_remote(leader, address[leader].first, address[leader].second, list, once);
  if (local.empty() && remote.empty()) wake_later(once);
}

void ShareGroupIo::watch_remote(int32_t leader, const std::string& host, uint16_t port,
                                const WatchList& from, std::function<void()> wake) {
  auto running = remote_watches_.find(leader);
  if (running != remote_watches_.end()) {
    // The poll in flight wakes when a high watermark passes what it watches;
    // that covers this watcher when it watches the same partitions from the
    // same offsets or later ones (an early wake is allowed, a missed one not).
    bool covered = true;
    for (const auto& [tp, offset] : from) {
      auto it = running->second.from.find(tp);
      covered = covered && it != running->second.from.end() && it->second <= offset;
    }
    if (covered) return running->second.wakes.push_back(std::move(wake));
    return wake_later(std::move(wake));  // not covered: look again shortly
  }
  if (static_cast<int>(remote_watches_.size()) >= kWatchThreads) return wake_later(std::move(wake));
  RemoteWatch& w = remote_watches_[leader];
  for (const auto& [tp, offset] : from) w.from[tp] = offset;
  w.wakes.push_back(std::move(wake));
  watch_workers_.submit([this, leader, host, port, from = w.from] {
    remote_watch(host, port, from, kRemoteWatchMs);
    watch_workers_.post_to_loop([this, leader] {
      auto it = remote_watches_.find(leader);
      if (it == remote_watches_.end()) return;
      auto wakes = std::move(it->second.wakes);
      remote_watches_.erase(it);
      for (const auto& wake : wakes) wake();
    });
  });
}

}  // namespace dmq::rest
