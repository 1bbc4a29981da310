#include "controller/broker_watch.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"

namespace dmq::controller {
namespace {

using std::chrono::milliseconds;
// A connect that takes longer proves nothing either way; try again later.
constexpr auto kConnectTimeout = milliseconds(1000);
constexpr auto kFirstBackoff = milliseconds(250);
constexpr auto kMaxBackoff = milliseconds(5000);
// While gone: how often to look whether a listener is back at the address.
constexpr auto kGoneProbe = milliseconds(1000);
// A watch connection the broker closes sooner than this after it opened
// (a connection limit, an idle reaper) counts as short-lived; after a few in
// a row the watch pauses before reconnecting, so a broker that keeps closing
// idle connections is not hammered. The first ones reconnect at once: a
// dying process may close its connections before its listener, so the
// reconnect that follows the first close can still land in the listener's
// backlog and only be reset a moment later.
constexpr auto kShortLived = milliseconds(500);
constexpr int kShortLivedBeforePause = 3;

}  // namespace

// One broker registration's watch. Owned by BrokerWatch through a
// shared_ptr that every pending handler also holds; `stopped` makes late
// handlers no-ops once the watch is dropped or replaced.
struct BrokerWatch::Watch : std::enable_shared_from_this<Watch> {
  Watch(asio::io_context& io, WatchTarget target, std::function<void()> on_gone)
      : target(std::move(target)),
        on_gone(std::move(on_gone)),
        resolver(io),
        socket(io),
        timer(io) {}

  WatchTarget target;
  std::function<void()> on_gone;
  asio::ip::tcp::resolver resolver;
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  bool stopped = false;
  bool established_once = false;  // only then does a refusal mean "gone"
  bool gone = false;
  bool connecting = false;
  std::chrono::steady_clock::time_point opened_at;
  milliseconds backoff = kFirstBackoff;
  int short_lived_in_a_row = 0;
  char byte = 0;

  void connect();
  void on_resolved(const asio::error_code& ec, const asio::ip::tcp::resolver::results_type& eps);
  void on_connected(const asio::error_code& ec);
  void watch_connection();
  void retry_after(milliseconds delay);
  void stop();
};

void BrokerWatch::Watch::connect() {
  if (stopped) return;
  connecting = true;
  asio::error_code ec;
  socket.close(ec);
  auto self = shared_from_this();
  resolver.async_resolve(
      target.host, std::to_string(target.port),
      [self](const asio::error_code& ec, const asio::ip::tcp::resolver::results_type& endpoints) {
        self->on_resolved(ec, endpoints);
      });
}

void BrokerWatch::Watch::on_resolved(const asio::error_code& ec,
                                     const asio::ip::tcp::resolver::results_type& endpoints) {
  if (stopped) return;
  if (ec) return retry_after(backoff);
  auto self = shared_from_this();
  timer.expires_after(kConnectTimeout);
  timer.async_wait([self](const asio::error_code& ec) {
    // Timed out: closing the socket completes the connect with an abort.
    if (!ec && !self->stopped && self->connecting) {
      asio::error_code ignored;
      self->socket.close(ignored);
    }
  });
  asio::async_connect(socket, endpoints,
                      [self](const asio::error_code& ec, const asio::ip::tcp::endpoint&) {
                        self->on_connected(ec);
                      });
}

void BrokerWatch::Watch::on_connected(const asio::error_code& ec) {
  if (stopped) return;
  connecting = false;
  timer.cancel();
  if (!ec) {
    if (gone) {
      LOG_INFO("controller") << "broker " << target.broker.value << " (epoch " << target.epoch.value
                             << ") accepts connections again";
    }
    gone = false;
    established_once = true;
    backoff = kFirstBackoff;
    opened_at = std::chrono::steady_clock::now();
    return watch_connection();
  }
  if (ec == asio::error::connection_refused && established_once) {
    // Nothing listens where this broker's Kafka listener was: the process
    // that held it is gone (a live but frozen process would still hold it).
    if (!gone) {
      gone = true;
      LOG_WARN("controller") << "broker " << target.broker.value << " (epoch " << target.epoch.value
                             << ") is gone: its connection closed and " << target.host << ":"
                             << target.port << " refuses connections";
      on_gone();
    }
    return retry_after(kGoneProbe);
  }
  retry_after(backoff);
  backoff = std::min(kMaxBackoff, backoff * 2);
}

void BrokerWatch::Watch::watch_connection() {
  auto self = shared_from_this();
  socket.async_read_some(asio::buffer(&byte, 1), [self](const asio::error_code& ec, size_t) {
    if (self->stopped) return;
    if (!ec) return self->watch_connection();  // the broker never writes unasked; ignore
    // Closed (or reset): decide at once whether the process is still there.
    bool short_lived = std::chrono::steady_clock::now() - self->opened_at < kShortLived;
    self->short_lived_in_a_row = short_lived ? self->short_lived_in_a_row + 1 : 0;
    if (self->short_lived_in_a_row >= kShortLivedBeforePause) return self->retry_after(kShortLived);
    self->connect();
  });
}

void BrokerWatch::Watch::retry_after(milliseconds delay) {
  if (stopped) return;
  asio::error_code ignored;
  socket.close(ignored);
  auto self = shared_from_this();
  timer.expires_after(delay);
  timer.async_wait([self](const asio::error_code& ec) {
    if (!ec) self->connect();
  });
}

void BrokerWatch::Watch::stop() {
  stopped = true;
  asio::error_code ignored;
  resolver.cancel();
  timer.cancel();
  socket.close(ignored);
}

BrokerWatch::BrokerWatch(asio::io_context& io, std::function<void()> on_gone)
    : io_(io), on_gone_(std::move(on_gone)) {}

BrokerWatch::~BrokerWatch() {
  stop();
}

void BrokerWatch::update(const std::vector<WatchTarget>& targets) {
  std::map<cluster::BrokerId, const WatchTarget*> wanted;
  for (const WatchTarget& t : targets) wanted[t.broker] = &t;
  for (auto it = watches_.begin(); it != watches_.end();) {
    auto want = wanted.find(it->first);
    if (want != wanted.end() && *want->second == it->second->target) {
      ++it;
      continue;
    }
    it->second->stop();
    it = watches_.erase(it);
  }
  for (const auto& [id, target] : wanted) {
    if (watches_.count(id)) continue;
    auto watch = std::make_shared<Watch>(io_, *target, on_gone_);
    watches_.emplace(id, watch);
    watch->connect();
  }
}

std::set<BrokerWatch::Registration> BrokerWatch::gone() const {
  std::set<Registration> result;
  for (const auto& [id, watch] : watches_) {
    if (watch->gone) result.insert({watch->target.broker, watch->target.epoch});
  }
  return result;
}

void BrokerWatch::stop() {
  for (auto& [id, watch] : watches_) watch->stop();
  watches_.clear();
}

}  // namespace dmq::controller
