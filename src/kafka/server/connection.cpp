#include "kafka/server/connection.h"

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "common/assert.h"
#include "common/log.h"
#include "kafka/server/request_budget.h"

namespace dmq::kafka {

Connection::Connection(asio::ip::tcp::socket socket, uint64_t id, HandlerContext& ctx,
                       ServerMetrics& metrics, const ListenerEndpoint& endpoint, OnClosed on_closed)
    : socket_(std::move(socket)),
      id_(id),
      ctx_(ctx),
      metrics_(metrics),
      endpoint_(endpoint),
      on_closed_(std::move(on_closed)),
      last_activity_(std::chrono::steady_clock::now()) {
  static const auto anonymous = std::make_shared<const std::string>("User:ANONYMOUS");
  principal_ = anonymous;
  if (endpoint_.sasl()) auth_state_ = AuthState::kAwaitHandshake;
}

void Connection::start() {
  asio::error_code ec;
  // Small answers (acks, metadata) must not wait for Nagle's timer.
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // sendfile() on the raw fd must not block the loop; set once (each call is an ioctl).
  socket_.native_non_blocking(true, ec);
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) client_host_ = peer.address().to_string();
  if (endpoint_.tls) {
    start_tls();
    return;
  }
  read_frames();
}

void Connection::start_tls() {
  // The slot's current context: a SIGHUP reload affects new connections only.
  security::TlsContext ctx = endpoint_.tls->current();
  SSL_CTX_up_ref(ctx.get());  // asio's context takes ownership of one reference
  tls_context_.emplace(ctx.get());
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *tls_context_);
  tls_->async_handshake(asio::ssl::stream_base::server,
                        [self = shared_from_this()](const asio::error_code& ec) {
                          if (ec) {
                            // A plaintext client, a bad certificate, a protocol mismatch.
                            self->metrics_.tls_handshake_failures.inc();
                            self->fail("TLS handshake failed");
                            return;
                          }
                          self->last_activity_ = std::chrono::steady_clock::now();
                          if (!self->endpoint_.sasl() && !self->take_certificate_principal()) {
                            return;
                          }
                          self->read_frames();
                        });
}

// SSL listener: the mTLS subject as ssl.principal.mapping.rules maps it, or
// User:ANONYMOUS. A subject no rule applies to is refused, as Kafka refuses it.
bool Connection::take_certificate_principal() {
  DMQ_ASSERT(endpoint_.principal_mapper != nullptr);
  auto principal = security::peer_principal(tls_->native_handle(), *endpoint_.principal_mapper);
  if (!principal) {
    metrics_.tls_handshake_failures.inc();
    LOG_WARN("kafka") << "refused connection " << id_ << " from " << client_host_
                      << ": its client certificate: " << principal.error().message;
    fail("TLS client certificate refused");
    return false;
  }
  principal_ = std::make_shared<const std::string>(std::move(principal).value());
  return true;
}

template <class Handler>
void Connection::read_some(asio::mutable_buffer buffer, Handler&& handler) {
  if (tls_) {
    tls_->async_read_some(buffer, std::forward<Handler>(handler));
  } else {
    socket_.async_read_some(buffer, std::forward<Handler>(handler));
  }
}

template <class Handler>
void Connection::write_all(asio::const_buffer buffer, Handler&& handler) {
  if (tls_) {
    asio::async_write(*tls_, buffer, std::forward<Handler>(handler));
  } else {
    asio::async_write(socket_, buffer, std::forward<Handler>(handler));
  }
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (mute_timer_) mute_timer_->cancel();
  release_reservations();
  slots_.clear();
  if (on_closed_) {
    auto cb = std::move(on_closed_);
    on_closed_ = nullptr;
    cb(id_);
  }
}

bool Connection::idle_since(std::chrono::steady_clock::time_point cutoff) const {
  return slots_.empty() && !writing_ && last_activity_ < cutoff;
}

void Connection::log_refusal_once(const RequestHeader& h, const char* why) {
  // Process-wide (several services may run in one process, each on its own
  // loop), and bounded so that a client inventing ids cannot grow it.
  static std::mutex mu;
  static std::set<std::string> logged;
  constexpr size_t kMaxRemembered = 4096;
  std::string client(h.client_id.value_or("(null)"));
  std::string key = client + '\n' + std::to_string(h.api_key) + '\n' + why;
  {
    std::lock_guard lock(mu);
    if (logged.size() >= kMaxRemembered || !logged.insert(key).second) return;
  }
  LOG_INFO("kafka") << "closing a connection of client '" << client << "': " << why << " (api key "
                    << h.api_key << " version " << h.api_version
                    << "); Kafka closes here too. Logged once per client";
}

void Connection::fail(const char* why) {
  LOG_DEBUG("kafka") << "closing connection " << id_ << ": " << why;
  metrics_.connections_closed_bad_input.inc();
  close();
}

namespace {

// What an answer waiting to be written holds in memory: its encoded bytes and
// record bytes it owns (down-converted); file ranges go out with sendfile.
uint64_t response_memory(const Response& r) {
  uint64_t bytes = r.frame.bytes.size();
  for (const RecordChunk& c : r.chunks)
    if (c.fd < 0) bytes += c.bytes.size();
  return bytes;
}

}  // namespace

uint64_t Connection::push_slot(int16_t api_key, std::chrono::steady_clock::time_point received) {
  const uint64_t seq = front_seq_ + slots_.size();
  Slot slot;
  slot.api_key = api_key;
  slot.received = received;
  slot.reserved = std::exchange(frame_reserved_, 0);
  slots_.push_back(std::move(slot));
  return seq;
}

bool Connection::must_pause_reading() const {
  return slots_.size() >= kMaxInFlight || auth_in_progress_ || muted_ ||
         unsent_bytes_ > kMaxUnsentResponseBytes;
}

bool Connection::reserve_frame(uint64_t bytes) {
  RequestBudget* budget = ctx_.request_budget;
  if (!budget) return true;
  if (budget->try_reserve(bytes)) {
    frame_reserved_ = bytes;
    return true;
  }
  // Spent: the bytes stay in the kernel, TCP pushes back on the client.
  reading_paused_ = true;
  if (!budget_waiting_) {
    budget_waiting_ = true;
    std::weak_ptr<Connection> weak = shared_from_this();
    budget->wait(bytes, [weak] {
      auto self = weak.lock();
      if (!self) return;
      self->budget_waiting_ = false;
      if (!self->closed_ && self->reading_paused_) self->read_frames();
    });
  }
  return false;
}

void Connection::release_reservations() {
  uint64_t bytes = std::exchange(frame_reserved_, 0);
  for (Slot& slot : slots_) bytes += std::exchange(slot.reserved, 0);
  if (bytes > 0 && ctx_.request_budget) ctx_.request_budget->release(bytes);
  unsent_bytes_ = 0;
}

void Connection::read_frames() {
  while (!closed_) {
    if (must_pause_reading()) {
      if (unsent_bytes_ > kMaxUnsentResponseBytes && !reading_paused_)
        metrics_.reading_paused_for_unsent_bytes.inc();
      reading_paused_ = true;  // resumed by maybe_write() once answers drain
      return;
    }
    reading_paused_ = false;
    const size_t buffered = read_end_ - read_begin_;
    if (buffered < 4) break;
    int32_t size = 0;
    // Checked before allocating: a frame claiming 2 GiB costs nothing.
    if (read_frame_size(read_ahead_.get() + read_begin_, ctx_.options.socket_request_max_bytes,
                        size) != CodecError::kOk ||
        size < 8) {
      fail("bad or oversized frame size");
      return;
    }
    // queued.max.request.bytes, counted before the body is allocated.
    if (!reserve_frame(static_cast<uint64_t>(size))) return;
    // A reused buffer: no zero fill or page faults per request (server_frame_pool.h).
    auto frame = frames_->take(static_cast<size_t>(size));
    const size_t have = std::min(buffered - 4, static_cast<size_t>(size));
    std::memcpy(frame->data(), read_ahead_.get() + read_begin_ + 4, have);
    read_begin_ += 4 + have;
    if (have < static_cast<size_t>(size)) {
      read_rest_of_body(std::move(frame), have);
      return;
    }
    handle_frame(std::move(frame));
  }
  if (closed_) return;
  // Keep the partial size prefix (under 4 bytes) at the front, read after it.
  const size_t buffered = read_end_ - read_begin_;
  if (buffered > 0) std::memmove(read_ahead_.get(), read_ahead_.get() + read_begin_, buffered);
  read_begin_ = 0;
  read_end_ = buffered;
  if (!tls_ && buffered == 0 && slots_.empty()) {
    // Idle: wait for bytes without a read-ahead buffer (10,000 idle
    // connections would otherwise pin 160 MiB). TLS may hold decrypted bytes
    // of its own, so it always reads.
    read_ahead_.reset();
    socket_.async_wait(asio::ip::tcp::socket::wait_read,
                       [self = shared_from_this()](const asio::error_code& ec) {
                         if (ec) {
                           self->close();
                           return;
                         }
                         self->read_more();
                       });
    return;
  }
  read_more();
}

void Connection::read_more() {
  if (closed_) return;
  if (!read_ahead_) read_ahead_.reset(new char[kReadAheadBytes]);
  read_some(asio::buffer(read_ahead_.get() + read_end_, kReadAheadBytes - read_end_),
            [self = shared_from_this()](const asio::error_code& ec, size_t n) {
              if (ec) {
                self->close();
                return;
              }
              self->last_activity_ = std::chrono::steady_clock::now();
              self->read_end_ += n;
              self->read_frames();
            });
}

void Connection::read_rest_of_body(std::shared_ptr<std::string> frame, size_t have) {
  // Everything read ahead went into this frame: the buffer is empty now.
  read_begin_ = read_end_ = 0;
  auto on_read = [self = shared_from_this(), frame](const asio::error_code& ec, size_t) {
    if (ec) {
      self->close();
      return;
    }
    self->last_activity_ = std::chrono::steady_clock::now();
    self->handle_frame(frame);
    self->read_frames();
  };
  auto buffer = asio::buffer(frame->data() + have, frame->size() - have);
  if (tls_) {
    asio::async_read(*tls_, buffer, std::move(on_read));
  } else {
    asio::async_read(socket_, buffer, std::move(on_read));
  }
}

void Connection::handle_frame(std::shared_ptr<std::string> frame) {
  if (auth_state_ == AuthState::kAwaitRawToken) {
    handle_raw_token(std::move(frame));
    return;
  }
  auto ex = std::make_shared<Exchange>();
  ex->frame = std::move(frame);
  ex->received = std::chrono::steady_clock::now();
  CodecError e = decode_request(*ex->frame, ex->request);
  uint64_t seq = front_seq_ + slots_.size();
  if (e == CodecError::kUnsupportedVersion &&
      ex->request.header.api_key == static_cast<int16_t>(ApiKey::kApiVersions)) {
    // KIP-511: a v0 answer listing ApiVersions' own range; the client retries lower.
    push_slot(ex->request.header.api_key, ex->received);
    Response r;
    r.frame = encode_api_versions_unsupported(ex->request.header.correlation_id);
    r.error = ErrorCode::kUnsupportedVersion;
    complete(seq, std::move(r));
    return;
  }
  if (e != CodecError::kOk) {
    // Unknown keys, other unsupported versions, malformed bodies: Kafka closes
    // too (SocketServer drops a request it cannot parse). The client sees only
    // a closed socket, so the operator gets the reason, once per client.
    const char* why = e == CodecError::kUnknownApiKey        ? "unknown API key"
                      : e == CodecError::kUnsupportedVersion ? "unsupported API version"
                                                             : "malformed request";
    log_refusal_once(ex->request.header, why);
    fail(why);
    return;
  }
  if (!admit(ex->request)) return;
  seq = push_slot(ex->request.header.api_key, ex->received);
  std::weak_ptr<Connection> weak = shared_from_this();
  ex->respond = [weak, seq](Response response) {
    if (auto self = weak.lock()) self->complete(seq, std::move(response));
  };
  ex->expect_answer_bytes = [weak, seq](uint64_t bytes) {
    if (auto self = weak.lock()) self->expect_answer_bytes(seq, bytes);
  };
  ex->listener = &endpoint_;
  ex->principal = principal_;
  ex->cluster_member = cluster_member_;
  ex->client_host = client_host_;
  switch (ex->request.api_key()) {
    case ApiKey::kSaslHandshake:
      return handle_sasl_handshake(ex, seq);
    case ApiKey::kSaslAuthenticate:
      return handle_sasl_authenticate(ex, seq);
    default:
      dispatch(ctx_, ex);
  }
}

void Connection::complete(uint64_t seq, Response response) {
  if (closed_ || seq < front_seq_ || seq - front_seq_ >= slots_.size()) return;
  Slot& slot = slots_[seq - front_seq_];
  if (slot.ready) return;  // answered twice: keep the first
  slot.ready = true;
  slot.response = std::move(response);
  // Answered: the request's bytes leave the budget, the answer's enter this
  // connection's unsent bytes until written.
  if (slot.reserved > 0 && ctx_.request_budget)
    ctx_.request_budget->release(std::exchange(slot.reserved, 0));
  unsent_bytes_ -= std::exchange(slot.unsent, 0);  // what expect_answer_bytes counted
  add_unsent(slot, response_memory(slot.response));
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - slot.received);
  metrics_.record_request(slot.api_key, slot.response.error, seconds.count());
  if (slot.response.throttle_ms > 0) mute_for(slot.response.throttle_ms);
  maybe_write();
}

void Connection::expect_answer_bytes(uint64_t seq, uint64_t bytes) {
  if (closed_ || seq < front_seq_ || seq - front_seq_ >= slots_.size()) return;
  Slot& slot = slots_[seq - front_seq_];
  if (!slot.ready) add_unsent(slot, bytes);
}

void Connection::add_unsent(Slot& slot, uint64_t bytes) {
  const bool was_over = unsent_bytes_ > kMaxUnsentResponseBytes;
  slot.unsent += bytes;
  unsent_bytes_ += bytes;
  // Reading may already be paused for another reason (too many requests in
  // flight); from now on unsent answers hold it too.
  if (!was_over && unsent_bytes_ > kMaxUnsentResponseBytes && reading_paused_)
    metrics_.reading_paused_for_unsent_bytes.inc();
}

void Connection::mute_for(int32_t ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  if (muted_ && until <= mute_until_) return;
  muted_ = true;
  mute_until_ = until;
  if (!mute_timer_) mute_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  mute_timer_->expires_at(until);
  std::weak_ptr<Connection> weak = shared_from_this();
  mute_timer_->async_wait([weak](const asio::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_) return;  // cancelled: a later mute re-armed it
    self->muted_ = false;
    if (self->reading_paused_ && !self->must_pause_reading()) self->read_frames();
  });
}

void Connection::maybe_write() {
  while (!closed_ && !writing_ && !slots_.empty() && slots_.front().ready) {
    Slot& slot = slots_.front();
    if (slot.response.close_after) {
      // acks=0 with an error: Kafka closes so the producer refreshes metadata.
      close();
      return;
    }
    if (!slot.response.send) {
      unsent_bytes_ -= slot.unsent;
      slots_.pop_front();
      ++front_seq_;
      continue;
    }
    write_front(slot);
    return;
  }
  if (!closed_ && reading_paused_ && !must_pause_reading()) read_frames();
}

void Connection::write_front(Slot& slot) {
  writing_response_ = std::move(slot.response);
  const EncodedFrame& f = writing_response_.frame;
  std::string_view all(f.bytes);
  parts_.clear();
  part_index_ = 0;
  size_t at = 0;
  for (const Splice& s : f.splices) {
    if (s.id >= writing_response_.chunks.size() ||
        writing_response_.chunks[s.id].length != s.length) {
      fail("splice without a matching record chunk");
      return;
    }
    if (s.offset > at) parts_.push_back(Part{all.substr(at, s.offset - at)});
    const RecordChunk& c = writing_response_.chunks[s.id];
    if (c.fd < 0) {
      parts_.push_back(Part{std::string_view(c.bytes).substr(0, s.length)});
    } else if (s.length > 0) {
      parts_.push_back(Part{{}, &c});
    }
    at = s.offset;
  }
  if (at < all.size()) parts_.push_back(Part{all.substr(at)});
  writing_ = true;
  write_next();
}

void Connection::write_next() {
  while (!closed_ && part_index_ < parts_.size()) {
    Part& part = parts_[part_index_];
    if (!part.chunk) {
      write_all(asio::buffer(part.bytes.data(), part.bytes.size()),
                [self = shared_from_this()](const asio::error_code& ec, size_t) {
                  if (ec) {
                    self->writing_ = false;
                    self->close();
                    return;
                  }
                  ++self->part_index_;
                  self->write_next();
                });
      return;
    }
    if (tls_) {
      write_chunk_through_tls(part_index_);
      return;
    }
    // Record bytes go from the segment file to the socket without a copy.
    const RecordChunk& c = *part.chunk;
    while (part.done < c.length) {
      off_t position = static_cast<off_t>(c.position + part.done);
      ssize_t n = ::sendfile(socket_.native_handle(), c.fd, &position, c.length - part.done);
      if (n > 0) {
        part.done += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        socket_.async_wait(asio::ip::tcp::socket::wait_write,
                           [self = shared_from_this()](const asio::error_code& ec) {
                             if (ec) {
                               self->writing_ = false;
                               self->close();
                               return;
                             }
                             self->write_next();
                           });
        return;
      }
      // EOF before the slice's end (the segment shrank under us) or an I/O
      // error: the frame cannot be completed, so the connection must go.
      LOG_WARN("kafka") << "sendfile of a record chunk failed; closing connection " << id_;
      writing_ = false;
      close();
      return;
    }
    ++part_index_;
  }
  if (!closed_) finish_write();
}

void Connection::write_chunk_through_tls(size_t part_index) {
  Part& part = parts_[part_index];
  const RecordChunk& c = *part.chunk;
  if (part.done >= c.length) {
    ++part_index_;
    write_next();
    return;
  }
  // Slices bound the memory per connection; 256 KiB keeps TLS records full.
  constexpr uint64_t kSliceBytes = 256 * 1024;
  const size_t want = static_cast<size_t>(std::min(kSliceBytes, c.length - part.done));
  tls_chunk_.resize(want);
  ssize_t n = ::pread(c.fd, tls_chunk_.data(), want, static_cast<off_t>(c.position + part.done));
  if (n <= 0) {
    LOG_WARN("kafka") << "reading a record chunk failed; closing connection " << id_;
    writing_ = false;
    close();
    return;
  }
  write_all(asio::buffer(tls_chunk_.data(), static_cast<size_t>(n)),
            [self = shared_from_this(), part_index](const asio::error_code& ec, size_t written) {
              if (ec) {
                self->writing_ = false;
                self->close();
                return;
              }
              self->parts_[part_index].done += written;
              self->write_chunk_through_tls(part_index);
            });
}

void Connection::finish_write() {
  const bool close_now = writing_response_.close_after_sent;
  writing_ = false;
  writing_response_ = Response{};  // releases the file references
  parts_.clear();
  last_activity_ = std::chrono::steady_clock::now();
  unsent_bytes_ -= slots_.front().unsent;
  slots_.pop_front();
  ++front_seq_;
  if (close_now) {
    close();
    return;
  }
  maybe_write();
}

}  // namespace dmq::kafka
