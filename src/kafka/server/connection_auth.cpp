// SASL on a connection: which requests an unauthenticated client may send,
// SaslHandshake, SaslAuthenticate and the bare tokens of a v0 handshake.
// Tokens and passwords never reach a log line.
#include <chrono>

#include "common/big_endian.h"
#include "common/log.h"
#include "kafka/server/connection.h"
#include "net/cluster_http.h"

namespace dmq::kafka {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_sasl_api(ApiKey key) {
  return key == ApiKey::kApiVersions || key == ApiKey::kSaslHandshake ||
         key == ApiKey::kSaslAuthenticate;
}

}  // namespace

bool Connection::admit(const Request& request) {
  const ApiKey key = request.api_key();
  if (auth_state_ != AuthState::kAuthenticated) {
    if (is_sasl_api(key)) return true;
    // Kafka's SaslServerAuthenticator: any other request before
    // authentication is a protocol violation and the connection goes.
    fail("request before SASL authentication");
    return false;
  }
  if (session_expiry_ms_ != 0 && !is_sasl_api(key) && wall_ms() >= session_expiry_ms_) {
    // KIP-368: the session ended and the client did not re-authenticate.
    LOG_INFO("kafka") << "closing connection " << id_ << " of " << *principal_
                      << ": SASL session expired";
    metrics_.sasl_sessions_expired.inc();
    close();
    return false;
  }
  return true;
}

void Connection::handle_sasl_handshake(const std::shared_ptr<Exchange>& ex, uint64_t seq) {
  const auto& req = std::get<SaslHandshakeRequest>(ex->request.body);
  SaslHandshakeResponse resp;
  if (req.mechanism == net::kClusterSaslMechanism && net::cluster_secret_configured() &&
      ex->request.header.api_version >= 1) {
    // Brokers of this cluster, on any listener: the follower's replica fetcher.
    resp.mechanisms = {net::kClusterSaslMechanism};
    cluster_proof_expected_ = true;
    complete(seq, make_response(*ex, resp));
    return;
  }
  if (!endpoint_.sasl() || !ctx_.sasl) {
    resp.error_code = ErrorCode::kIllegalSaslState;
    auto r = make_response(*ex, resp, resp.error_code);
    r.close_after_sent = true;
    complete(seq, std::move(r));
    return;
  }
  resp.mechanisms = ctx_.sasl->mechanisms();
  if (!sasl_) sasl_ = std::make_unique<SaslSession>(*ctx_.sasl);
  if (!sasl_->begin(req.mechanism)) {
    resp.error_code = ErrorCode::kUnsupportedSaslMechanism;
    auto r = make_response(*ex, resp, resp.error_code);
    r.close_after_sent = true;
    complete(seq, std::move(r));
    return;
  }
  // v0 (kafka-python 2.0.2): bare tokens follow. v1: SaslAuthenticate
  // requests, also for a re-authentication on an authenticated connection.
  auth_state_ = ex->request.header.api_version == 0 ? AuthState::kAwaitRawToken
                                                    : AuthState::kAwaitAuthenticate;
  complete(seq, make_response(*ex, resp));
}

void Connection::handle_sasl_authenticate(const std::shared_ptr<Exchange>& ex, uint64_t seq) {
  if (cluster_proof_expected_) return handle_cluster_member_proof(ex, seq);
  const auto& req = std::get<SaslAuthenticateRequest>(ex->request.body);
  if (auth_state_ != AuthState::kAwaitAuthenticate || !sasl_) {
    return refuse_authenticate(ex, seq, ErrorCode::kIllegalSaslState,
                               "SaslAuthenticate before SaslHandshake");
  }
  const int16_t version = ex->request.header.api_version;
  run_sasl_step(req.auth_bytes, [this, ex, seq, version](SaslSession::Outcome outcome) {
    SaslAuthenticateResponse resp;
    resp.auth_bytes = std::move(outcome.server_bytes);
    bool close_after = false;
    if (outcome.state == SaslSession::Outcome::State::kFailed) {
      resp.error_code = ErrorCode::kSaslAuthenticationFailed;
      resp.error_message = outcome.error_message;
      close_after = true;
    } else if (outcome.state == SaslSession::Outcome::State::kAuthenticated) {
      become_authenticated(outcome);
      // v1+: the client re-authenticates before this (KIP-368); v0 clients
      // cannot, and are simply disconnected at expiry.
      if (version >= 1 && session_expiry_ms_ != 0)
        resp.session_lifetime_ms = std::max<int64_t>(1, session_expiry_ms_ - wall_ms());
    }
    auto r = make_response(*ex, resp, resp.error_code);
    r.close_after_sent = close_after;
    complete(seq, std::move(r));
  });
}

void Connection::handle_raw_token(std::shared_ptr<std::string> frame) {
  const uint64_t seq =
      push_slot(static_cast<int16_t>(ApiKey::kSaslAuthenticate), std::chrono::steady_clock::now());
  // The frame stays alive until the step has read it (PLAIN copies what it needs).
  run_sasl_step(*frame, [this, seq, frame](SaslSession::Outcome outcome) {
    if (outcome.state == SaslSession::Outcome::State::kFailed) {
      // No error frame exists in this framing: Kafka closes the connection.
      close();
      return;
    }
    if (outcome.state == SaslSession::Outcome::State::kAuthenticated) become_authenticated(outcome);
    Response r;
    BigEndianWriter w;
    w.u32(static_cast<uint32_t>(outcome.server_bytes.size()));
    w.raw(outcome.server_bytes);
    r.frame.bytes = w.take();
    complete(seq, std::move(r));
  });
}

void Connection::run_sasl_step(std::string_view token,
                               std::function<void(SaslSession::Outcome)> done) {
  auth_in_progress_ = true;
  std::weak_ptr<Connection> weak = shared_from_this();
  auto image = ctx_.backend.metadata();
  sasl_->step(token, *image, wall_ms(),
              [weak, done = std::move(done)](SaslSession::Outcome outcome) {
                auto self = weak.lock();
                if (!self || self->closed_) return;
                self->auth_in_progress_ = false;
                if (outcome.state == SaslSession::Outcome::State::kFailed) {
                  self->metrics_.sasl_authentication_failures.inc();
                  LOG_INFO("kafka") << "SASL " << self->sasl_->mechanism()
                                    << " authentication failed on connection " << self->id_ << ": "
                                    << outcome.error_message;
                }
                done(std::move(outcome));
              });
}

// Answers a SaslAuthenticate with `code` and closes the connection after it.
void Connection::refuse_authenticate(const std::shared_ptr<Exchange>& ex, uint64_t seq,
                                     ErrorCode code, std::string message) {
  SaslAuthenticateResponse resp;
  resp.error_code = code;
  resp.error_message = std::move(message);
  auto r = make_response(*ex, resp, resp.error_code);
  r.close_after_sent = true;
  complete(seq, std::move(r));
}

void Connection::handle_cluster_member_proof(const std::shared_ptr<Exchange>& ex, uint64_t seq) {
  const auto& req = std::get<SaslAuthenticateRequest>(ex->request.body);
  cluster_proof_expected_ = false;
  SaslAuthenticateResponse resp;
  std::string error;
  auto node = net::verify_cluster_member_token(req.auth_bytes, ctx_.options.node_id, &error);
  if (!node) {
    metrics_.sasl_authentication_failures.inc();
    LOG_INFO("kafka") << "connection " << id_ << ": cluster member proof refused: " << error;
    return refuse_authenticate(ex, seq, ErrorCode::kSaslAuthenticationFailed,
                               "not a member of this cluster");
  }
  cluster_member_ = true;
  principal_ = std::make_shared<const std::string>("User:__dmq_node_" + std::to_string(*node));
  auth_state_ = AuthState::kAuthenticated;
  LOG_DEBUG("kafka") << "connection " << id_ << " is cluster member node " << *node;
  complete(seq, make_response(*ex, resp));
}

void Connection::become_authenticated(const SaslSession::Outcome& outcome) {
  metrics_.sasl_authentications.inc();
  principal_ = std::make_shared<const std::string>(outcome.principal);
  session_expiry_ms_ = outcome.session_expiry_ms;
  auth_state_ = AuthState::kAuthenticated;
  LOG_DEBUG("kafka") << "connection " << id_ << " authenticated as " << *principal_ << " with "
                     << sasl_->mechanism();
}

}  // namespace dmq::kafka
