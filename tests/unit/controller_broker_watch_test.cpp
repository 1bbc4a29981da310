// BrokerWatch against real loopback sockets: a listener whose connection
// closes but that still accepts is alive; a listener that is gone after a
// connection existed is reported; one never reached is not; a listener that
// comes back clears the verdict.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>

#include <asio.hpp>

#include "controller/broker_watch.h"

using namespace dmq;
using namespace std::chrono_literals;

namespace {

// A stand-in for a broker's Kafka listener: accepts and keeps connections.
struct FakeListener {
  explicit FakeListener(asio::io_context& io, uint16_t port = 0)
      : acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)) {
    accept();
  }
  void accept() {
    auto socket = std::make_shared<asio::ip::tcp::socket>(acceptor.get_executor());
    acceptor.async_accept(*socket, [this, socket](const asio::error_code& ec) {
      if (ec) return;
      accepted.push_back(socket);
      accept();
    });
  }
  // The process dies: its listener and every connection close.
  void die() {
    asio::error_code ignored;
    acceptor.close(ignored);
    for (auto& s : accepted) s->close(ignored);
    accepted.clear();
  }
  uint16_t port() const { return acceptor.local_endpoint().port(); }
  asio::ip::tcp::acceptor acceptor;
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> accepted;
};

controller::WatchTarget target(uint16_t port, int64_t epoch = 7) {
  return {cluster::BrokerId{1}, cluster::BrokerEpoch{epoch}, "127.0.0.1", port};
}

// Runs the loop until `done` holds or `limit` passes; returns done().
template <typename Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(10ms);
    io.restart();
  }
  return done();
}

}  // namespace

TEST_CASE("a broker whose listener disappears after a connection is reported gone") {
  asio::io_context io;
  int reports = 0;
  controller::BrokerWatch watch(io, [&] { ++reports; });
  auto listener = std::make_unique<FakeListener>(io);
  uint16_t port = listener->port();
  watch.update({target(port)});
  REQUIRE(run_until(
      io, [&] { return listener->accepted.size() == 1; }, 5s));
  CHECK(watch.gone().empty());

  listener->die();
  REQUIRE(run_until(
      io, [&] { return !watch.gone().empty(); }, 5s));
  CHECK(watch.gone() == std::set<controller::BrokerWatch::Registration>{
                            {cluster::BrokerId{1}, cluster::BrokerEpoch{7}}});
  CHECK(reports == 1);

  // A listener back at the address (a restarted process) clears it.
  listener = std::make_unique<FakeListener>(io, port);
  REQUIRE(run_until(
      io, [&] { return watch.gone().empty(); }, 5s));
  watch.stop();
}

TEST_CASE("a closed connection to a listener that still accepts is not a death") {
  asio::io_context io;
  int reports = 0;
  controller::BrokerWatch watch(io, [&] { ++reports; });
  FakeListener listener(io);
  watch.update({target(listener.port())});
  REQUIRE(run_until(
      io, [&] { return listener.accepted.size() == 1; }, 5s));
  // Wait past the short-lived window, then the broker closes the idle connection.
  run_until(
      io, [] { return false; }, 700ms);
  listener.accepted.front()->close();
  REQUIRE(run_until(
      io, [&] { return listener.accepted.size() == 2; }, 5s));
  CHECK(watch.gone().empty());
  CHECK(reports == 0);
  watch.stop();
}

TEST_CASE("a refusal from an address never reached proves nothing") {
  asio::io_context io;
  int reports = 0;
  controller::BrokerWatch watch(io, [&] { ++reports; });
  uint16_t port;
  {
    FakeListener closed(io);
    port = closed.port();
    closed.die();
  }
  watch.update({target(port)});
  run_until(
      io, [] { return false; }, 600ms);
  CHECK(watch.gone().empty());
  CHECK(reports == 0);
  watch.stop();
}

TEST_CASE("a new epoch starts a fresh watch; the old epoch's verdict goes with it") {
  asio::io_context io;
  controller::BrokerWatch watch(io, [] {});
  auto listener = std::make_unique<FakeListener>(io);
  uint16_t port = listener->port();
  watch.update({target(port, 7)});
  REQUIRE(run_until(
      io, [&] { return listener->accepted.size() == 1; }, 5s));
  listener->die();
  REQUIRE(run_until(
      io, [&] { return !watch.gone().empty(); }, 5s));
  watch.update({target(port, 9)});
  CHECK(watch.gone().empty());
  watch.update({});
  CHECK(watch.gone().empty());
  watch.stop();
}
