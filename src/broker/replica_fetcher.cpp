#include "broker/replica_fetcher.h"

#include <array>

#include "common/log.h"
#include "kafka/protocol/request.h"
#include "net/cluster_http.h"

namespace dmq::broker {
namespace {

constexpr int16_t kFetchVersion = 12;
constexpr int16_t kEpochVersion = 3;
constexpr int16_t kSaslVersion = 1;
constexpr std::chrono::milliseconds kMaxBackoff{2000};
constexpr std::chrono::milliseconds kIdleWait{250};
constexpr std::chrono::milliseconds kSlack{15000};
// A response larger than this is a broken peer, not data: fetch max_bytes is
// far below it.
constexpr uint32_t kMaxResponseBytes = 512u << 20;

uint32_t read_be32(const char* p) {
  return (uint32_t(uint8_t(p[0])) << 24) | (uint32_t(uint8_t(p[1])) << 16) |
         (uint32_t(uint8_t(p[2])) << 8) | uint32_t(uint8_t(p[3]));
}

}  // namespace

ReplicaFetcher::ReplicaFetcher(asio::io_context& io, int32_t node_id, int32_t source_id,
                               std::string host, uint16_t port, Hooks hooks)
    : io_(io),
      node_id_(node_id),
      source_id_(source_id),
      host_(std::move(host)),
      port_(port),
      hooks_(std::move(hooks)),
      socket_(io),
      resolver_(io),
      timer_(io),
      deadline_(io) {}

void ReplicaFetcher::start() {
  connect();
}

void ReplicaFetcher::stop() {
  if (stopped_) return;
  stopped_ = true;
  ++generation_;
  asio::error_code ignored;
  socket_.close(ignored);
  resolver_.cancel();
  timer_.cancel();
  deadline_.cancel();
  connected_ = false;
  hooks_ = {};  // the owner's callbacks must not run after stop
}

void ReplicaFetcher::poke() {
  if (idle_) timer_.cancel();
}

void ReplicaFetcher::connect() {
  if (stopped_) return;
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  resolver_.async_resolve(
      host_, std::to_string(port_),
      [self, gen](const asio::error_code& ec, asio::ip::tcp::resolver::results_type results) {
        if (self->stopped_ || gen != self->generation_) return;
        if (ec) return self->fail("resolve: " + ec.message());
        asio::async_connect(self->socket_, results,
                            [self, gen](const asio::error_code& ec2, const auto&) {
                              if (self->stopped_ || gen != self->generation_) return;
                              if (ec2) return self->fail("connect: " + ec2.message());
                              asio::error_code ignored;
                              self->socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
                              self->connected_ = true;
                              self->backoff_ = std::chrono::milliseconds(100);
                              LOG_INFO("replica") << "fetching from broker " << self->source_id_
                                                  << " at " << self->host_ << ":" << self->port_;
                              self->prove_membership();
                            });
      });
}

// With a cluster secret the leader serves replica fetches only to brokers
// that prove they hold it (net/cluster_http.h): one SASL exchange of the
// DMQ-CLUSTER mechanism per connection, before the first request.
void ReplicaFetcher::prove_membership() {
  std::string token = net::cluster_member_token(source_id_);
  if (token.empty()) return cycle();
  auto self = shared_from_this();
  kafka::SaslHandshakeRequest handshake;
  handshake.mechanism = net::kClusterSaslMechanism;
  send(kafka::encode_request(kSaslVersion, ++correlation_id_, "dmq-replica", handshake), kSlack,
       [self, token = std::move(token)](std::shared_ptr<std::string> frame) {
         kafka::SaslHandshakeResponse resp;
         int32_t correlation = 0;
         if (kafka::decode_response(*frame, kSaslVersion, correlation, resp) !=
                 kafka::CodecError::kOk ||
             correlation != self->correlation_id_)
           return self->fail("undecodable SaslHandshake response");
         if (resp.error_code != kafka::ErrorCode::kNone)
           return self->fail("broker " + std::to_string(self->source_id_) +
                             " does not take cluster members; is --cluster.secret.file set there?");
         kafka::SaslAuthenticateRequest authenticate;
         authenticate.auth_bytes = token;
         self->send(kafka::encode_request(kSaslVersion, ++self->correlation_id_, "dmq-replica",
                                          authenticate),
                    kSlack, [self](std::shared_ptr<std::string> frame2) {
                      kafka::SaslAuthenticateResponse answer;
                      int32_t correlation2 = 0;
                      if (kafka::decode_response(*frame2, kSaslVersion, correlation2, answer) !=
                              kafka::CodecError::kOk ||
                          correlation2 != self->correlation_id_)
                        return self->fail("undecodable SaslAuthenticate response");
                      if (answer.error_code != kafka::ErrorCode::kNone)
                        return self->fail("broker " + std::to_string(self->source_id_) +
                                          " refused this node as a cluster member; do the cluster "
                                          "secrets differ?");
                      self->cycle();
                    });
       });
}

void ReplicaFetcher::cycle() {
  if (stopped_ || !connected_) return;
  auto self = shared_from_this();
  kafka::OffsetForLeaderEpochRequest epochs = hooks_.epoch_queries();
  if (!epochs.topics.empty()) {
    epochs.replica_id = node_id_;
    send(kafka::encode_request(kEpochVersion, ++correlation_id_, "dmq-replica", epochs), kSlack,
         [self](std::shared_ptr<std::string> frame) {
           kafka::OffsetForLeaderEpochResponse resp;
           int32_t correlation = 0;
           if (kafka::decode_response(*frame, kEpochVersion, correlation, resp) !=
                   kafka::CodecError::kOk ||
               correlation != self->correlation_id_)
             return self->fail("undecodable OffsetForLeaderEpoch response");
           if (self->hooks_.on_epochs) self->hooks_.on_epochs(resp);
           self->cycle();
         });
    return;
  }
  kafka::FetchRequest fetch = hooks_.build_fetch();
  if (fetch.topics.empty()) {
    idle_ = true;
    timer_.expires_after(kIdleWait);
    const uint64_t gen = generation_;
    timer_.async_wait([self, gen](const asio::error_code&) {
      if (self->stopped_ || gen != self->generation_) return;
      self->idle_ = false;
      self->cycle();
    });
    return;
  }
  fetch.replica_id = node_id_;
  const auto timeout = std::chrono::milliseconds(fetch.max_wait_ms) + kSlack;
  send(kafka::encode_request(kFetchVersion, ++correlation_id_, "dmq-replica", fetch), timeout,
       [self](std::shared_ptr<std::string> frame) {
         auto resp = std::make_shared<kafka::FetchResponse>();
         int32_t correlation = 0;
         if (kafka::decode_response(*frame, kFetchVersion, correlation, *resp) !=
                 kafka::CodecError::kOk ||
             correlation != self->correlation_id_)
           return self->fail("undecodable Fetch response");
         const uint64_t gen = self->generation_;
         if (!self->hooks_.on_fetch) return;
         // `resp` views into `frame`: both live until next() runs.
         self->hooks_.on_fetch(*resp, frame, [self, gen, resp, frame] {
           if (self->stopped_ || gen != self->generation_) return;
           asio::post(self->io_, [self, gen] {
             if (self->stopped_ || gen != self->generation_) return;
             self->cycle();
           });
         });
       });
}

void ReplicaFetcher::send(kafka::EncodedFrame frame, std::chrono::milliseconds timeout,
                          std::function<void(std::shared_ptr<std::string>)> on_frame) {
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  auto bytes = std::make_shared<std::string>(std::move(frame.bytes));
  asio::async_write(socket_, asio::buffer(*bytes),
                    [self, gen, bytes, timeout, on_frame = std::move(on_frame)](
                        const asio::error_code& ec, size_t) mutable {
                      if (self->stopped_ || gen != self->generation_) return;
                      if (ec) return self->fail("write: " + ec.message());
                      self->read_frame(timeout, std::move(on_frame));
                    });
}

void ReplicaFetcher::read_frame(std::chrono::milliseconds timeout,
                                std::function<void(std::shared_ptr<std::string>)> on_frame) {
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  deadline_.expires_after(timeout);
  deadline_.async_wait([self, gen](const asio::error_code& ec) {
    if (ec || self->stopped_ || gen != self->generation_) return;
    self->fail("no response in time");
  });
  auto prefix = std::make_shared<std::array<char, 4>>();
  asio::async_read(socket_, asio::buffer(*prefix),
                   [self, gen, prefix, on_frame = std::move(on_frame)](const asio::error_code& ec,
                                                                       size_t) mutable {
                     if (self->stopped_ || gen != self->generation_) return;
                     if (ec) return self->fail("read: " + ec.message());
                     uint32_t size = read_be32(prefix->data());
                     if (size < 4 || size > kMaxResponseBytes)
                       return self->fail("response frame of " + std::to_string(size) + " bytes");
                     auto frame = std::make_shared<std::string>(size, '\0');
                     asio::async_read(self->socket_, asio::buffer(frame->data(), frame->size()),
                                      [self, gen, frame, on_frame = std::move(on_frame)](
                                          const asio::error_code& ec2, size_t) {
                                        if (self->stopped_ || gen != self->generation_) return;
                                        if (ec2) return self->fail("read: " + ec2.message());
                                        self->deadline_.cancel();
                                        on_frame(frame);
                                      });
                   });
}

void ReplicaFetcher::fail(const std::string& why) {
  if (stopped_) return;
  if (connected_) {
    LOG_WARN("replica") << "connection to broker " << source_id_ << " (" << host_ << ":" << port_
                        << ") lost: " << why;
  }
  ++generation_;
  connected_ = false;
  idle_ = false;
  asio::error_code ignored;
  socket_.close(ignored);
  deadline_.cancel();
  if (hooks_.on_disconnect) hooks_.on_disconnect();
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  timer_.async_wait([self, gen](const asio::error_code&) {
    if (self->stopped_ || gen != self->generation_) return;
    self->connect();
  });
}

}  // namespace dmq::broker
