#pragma once
// One Kafka client connection: reads size-prefixed request frames, hands
// each decoded request to the handlers, and writes the answers strictly in
// request order (kafka-python checks every correlation id against its oldest
// request in flight), even when they complete out of order internally, e.g. a
// parked Fetch behind a quick Metadata.
//
// Bad input closes this connection only: a size prefix that is negative or
// above socket.request.max.bytes (checked before anything is allocated), a
// frame that does not decode, an unknown API key, an unsupported version of
// anything but ApiVersions (which gets KIP-511's UNSUPPORTED_VERSION answer).
//
// On an SSL or SASL_SSL listener the bytes go through TLS (asio::ssl::stream
// over the socket: the handshake is asynchronous, never a blocking
// SSL_accept). Record bytes then cannot use sendfile(2), which would bypass
// the encryption: they are read from the segment file (pread) and written
// through TLS in slices. The plaintext path keeps sendfile.
//
// On a SASL listener nothing but ApiVersions, SaslHandshake and
// SaslAuthenticate is served until the client authenticated (anything else
// closes the connection, as Kafka does); a failed authentication answers
// SASL_AUTHENTICATION_FAILED with a reason and closes. With
// connections.max.reauth.ms a request after the session expired closes the
// connection unless it re-authenticates (KIP-368).
//
// Ownership: shared; the Server keeps one reference in its table and the
// pending asio operations keep others. Threads: the event loop only.

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "kafka/server/handlers.h"
#include "kafka/server/listener.h"
#include "kafka/server/sasl.h"
#include "kafka/server/server_frame_pool.h"
#include "kafka/server/server_metrics.h"

namespace dmq::kafka {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using OnClosed = std::function<void(uint64_t id)>;
  Connection(asio::ip::tcp::socket socket, uint64_t id, HandlerContext& ctx, ServerMetrics& metrics,
             const ListenerEndpoint& endpoint, OnClosed on_closed);
  void start();
  // Closes the socket; answers still pending are dropped. Idempotent.
  void close();
  // True when nothing is in flight and nothing was read or written since `cutoff`.
  bool idle_since(std::chrono::steady_clock::time_point cutoff) const;
  uint64_t id() const { return id_; }

  // Most requests in flight per connection before reading pauses (back-pressure).
  static constexpr size_t kMaxInFlight = 128;
  // Answers ready but not yet written (encoded bytes and owned record bytes;
  // file ranges sent with sendfile cost no memory): above this, reading
  // pauses, so a client that sends without reading its answers holds at most
  // this much (plus one answer) of the broker's memory.
  static constexpr uint64_t kMaxUnsentResponseBytes = uint64_t{4} << 20;

 private:
  struct Slot {
    bool ready = false;
    Response response;
    int16_t api_key = 0;
    std::chrono::steady_clock::time_point received;
    uint64_t reserved = 0;  // request bytes held in the RequestBudget until answered
    uint64_t unsent = 0;    // memory of the ready answer, counted in unsent_bytes_
  };
  // Appends the slot of the request just read (it takes over the frame's
  // reservation); returns its sequence number.
  uint64_t push_slot(int16_t api_key, std::chrono::steady_clock::time_point received);
  // Why reading must wait, or nullptr: too many requests in flight, a SASL
  // step running, too many unsent answer bytes.
  bool must_pause_reading() const;
  // Reserves the next frame's bytes; false when the budget is spent (a
  // wake-up is registered and reading paused).
  bool reserve_frame(uint64_t bytes);
  void release_reservations();
  // Takes whole frames out of what was read ahead; reads more when none is
  // complete (one recv usually brings the size and the body, often several
  // pipelined requests).
  void read_frames();
  // Reads what the socket has into the read-ahead buffer (allocated here
  // when the connection was idle), then takes frames.
  void read_more();
  void read_rest_of_body(std::shared_ptr<std::string> frame, size_t have);
  void handle_frame(std::shared_ptr<std::string> frame);
  void complete(uint64_t seq, Response response);
  void expect_answer_bytes(uint64_t seq, uint64_t bytes);
  void add_unsent(Slot& slot, uint64_t bytes);
  // KIP-219: stops reading from this connection for `ms` (a quota's throttle
  // time), extending a mute in progress if it ends later.
  void mute_for(int32_t ms);
  void maybe_write();
  void write_front(Slot& slot);
  void write_next();
  void finish_write();
  void fail(const char* why);
  void log_refusal_once(const RequestHeader& h, const char* why);
  void start_tls();
  bool take_certificate_principal();
  template <class Handler>
  void read_some(asio::mutable_buffer buffer, Handler&& handler);
  template <class Handler>
  void write_all(asio::const_buffer buffer, Handler&& handler);
  // TLS: one slice of a record chunk read from its file and written through TLS.
  void write_chunk_through_tls(size_t part_index);

  // ---- authentication (connection_auth.cpp) ----
  enum class AuthState { kAuthenticated, kAwaitHandshake, kAwaitAuthenticate, kAwaitRawToken };
  // False when the request may not be served now; the connection is closed.
  bool admit(const Request& request);
  void handle_sasl_handshake(const std::shared_ptr<Exchange>& ex, uint64_t seq);
  void handle_sasl_authenticate(const std::shared_ptr<Exchange>& ex, uint64_t seq);
  // After a v0 handshake the tokens come as bare size-prefixed frames.
  void handle_raw_token(std::shared_ptr<std::string> frame);
  void run_sasl_step(std::string_view token, std::function<void(SaslSession::Outcome)> done);
  void become_authenticated(const SaslSession::Outcome& outcome);
  // The DMQ-CLUSTER exchange of a follower broker (net/cluster_http.h).
  void handle_cluster_member_proof(const std::shared_ptr<Exchange>& ex, uint64_t seq);
  void refuse_authenticate(const std::shared_ptr<Exchange>& ex, uint64_t seq, ErrorCode code,
                           std::string message);

  asio::ip::tcp::socket socket_;
  const uint64_t id_;
  HandlerContext& ctx_;
  ServerMetrics& metrics_;
  const ListenerEndpoint& endpoint_;
  // TLS listeners only. The stream borrows the socket; the context keeps
  // the SSL_CTX this connection started with alive across a SIGHUP reload.
  std::optional<asio::ssl::context> tls_context_;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  std::string tls_chunk_;  // record bytes on their way through TLS
  AuthState auth_state_ = AuthState::kAuthenticated;
  std::unique_ptr<SaslSession> sasl_;
  bool auth_in_progress_ = false;        // a SASL step is running: reading waits for it
  bool cluster_proof_expected_ = false;  // DMQ-CLUSTER handshake done, token next
  bool cluster_member_ = false;          // proved it holds the cluster secret
  std::shared_ptr<const std::string> principal_;
  std::string client_host_;        // the peer's IP address, for ACL host matching
  int64_t session_expiry_ms_ = 0;  // wall clock; 0: the session never expires
  OnClosed on_closed_;
  // Bytes read from the socket but not yet taken as frames: [begin, end).
  // A frame larger than this buffer gets its remainder read straight into
  // its own buffer (no second copy of a large produce request).
  static constexpr size_t kReadAheadBytes = 16 * 1024;
  std::unique_ptr<char[]> read_ahead_;  // null while the connection is idle
  size_t read_begin_ = 0;
  size_t read_end_ = 0;
  std::shared_ptr<FramePool> frames_ = FramePool::create();
  std::deque<Slot> slots_;
  uint64_t front_seq_ = 0;  // sequence number of slots_.front()
  bool writing_ = false;
  bool reading_paused_ = false;
  bool budget_waiting_ = false;  // registered with the RequestBudget for a wake-up
  bool muted_ = false;           // throttled by a quota until mute_until_
  std::chrono::steady_clock::time_point mute_until_;
  std::unique_ptr<asio::steady_timer> mute_timer_;  // made on the first throttle
  uint64_t frame_reserved_ = 0;                     // the frame being read, until its slot takes it
  uint64_t unsent_bytes_ = 0;                       // sum of Slot::unsent
  bool closed_ = false;
  bool close_after_write_ = false;
  // The answer being written, as parts: encoded bytes, or record chunks sent
  // with sendfile(2) from the segment file (pread-free, no user-space copy).
  struct Part {
    std::string_view bytes;
    const RecordChunk* chunk = nullptr;
    uint64_t done = 0;
  };
  Response writing_response_;
  std::vector<Part> parts_;
  size_t part_index_ = 0;
  std::chrono::steady_clock::time_point last_activity_;
};

}  // namespace dmq::kafka
