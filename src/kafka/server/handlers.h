#pragma once
// Private to the Kafka server: the request handlers (one handle_*.cpp per
// API) and what they share. A handler receives one decoded request and
// answers it exactly once through `Exchange::respond`, possibly later (a
// parked Fetch, a Produce waiting for its group commit, an admin call waiting
// for the controller). The connection keeps answers in request order.
//
// Threads: handlers and their callbacks run on the event-loop thread.

#include <algorithm>
#include <asio.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/backend.h"
#include "broker/controller_client.h"
#include "common/options.h"
#include "kafka/protocol/request.h"

namespace dmq::kafka {

// The handlers reach the local replicas through the broker's Backend seam.
using broker::Acks;
using broker::ActiveProducer;
using broker::Backend;
using broker::BrokerId;
using broker::EpochEndOffset;
using broker::FetchRead;
using broker::HostedReplica;
using broker::LeaderEpoch;
using broker::LogDirUsage;
using broker::Offset;
using broker::OffsetLookup;
using broker::PartitionId;
using broker::ProduceResult;
using broker::ProducerIdResult;
using broker::ProducersLookup;
using broker::ProduceTarget;
using broker::RecordChunk;
using broker::TopicPartition;
using broker::ValidatedBatch;

// One answer, ready for the connection to send.
struct Response {
  EncodedFrame frame;                  // includes the size prefix
  std::vector<RecordChunk> chunks;     // splice id i is filled from chunks[i]
  bool send = true;                    // false: Produce acks=0, nothing goes out
  bool close_after = false;            // close the connection once this slot is reached
  bool close_after_sent = false;       // close once this answer is written (failed SASL)
  ErrorCode error = ErrorCode::kNone;  // the first error in the answer, for metrics
  int32_t throttle_ms = 0;             // a quota's throttle: the connection stops reading
};

struct ListenerEndpoint;
}  // namespace dmq::kafka
namespace dmq::security {
class Authorizer;
class AuthorizerCache;
}  // namespace dmq::security
namespace dmq::kafka {

struct Exchange {
  std::shared_ptr<std::string> frame;  // owns the bytes `request` views
  Request request;
  std::function<void(Response)> respond;  // call exactly once
  std::chrono::steady_clock::time_point received;
  // The listener the request arrived on: Metadata and FindCoordinator name
  // this broker by that listener's advertised address, as Kafka does.
  const ListenerEndpoint* listener = nullptr;
  // Who sent it: "User:alice" after SASL, the mTLS subject, or
  // "User:ANONYMOUS"; and from where (the client's IP address as text).
  // The authorizer's input (AccessCheck, authorize.h).
  std::shared_ptr<const std::string> principal;
  std::string client_host;
  // The ACLs of the metadata image when the request was dispatched; null
  // when --authorizer.enabled is off (everything is allowed).
  std::shared_ptr<const security::Authorizer> authorizer;
  // The connection proved it is a broker of this cluster (DMQ-CLUSTER, when
  // a cluster secret is set): only then may it fetch as a replica.
  bool cluster_member = false;
  // The throttle time the sender's quotas earned (quota_gate.h): written into
  // the answer's throttle_time_ms by make_response, and the connection is
  // muted that long once the answer is complete.
  int32_t throttle_time_ms = 0;
  // For a handler that builds a large answer off the loop (Fetch
  // down-conversion): the connection counts `bytes` as unsent answer bytes
  // at once, so a client that does not read its answers cannot make the
  // broker build more of them than the connection's bound. Unset in tests.
  std::function<void(uint64_t bytes)> expect_answer_bytes;
};
using ExchangePtr = std::shared_ptr<Exchange>;

}  // namespace dmq::kafka
namespace dmq::net {
class WorkerPool;
}  // namespace dmq::net
namespace dmq::kafka {

class SaslService;
class QuotaGate;
class RequestBudget;
class ConnectionLimits;

// Everything a handler may use; owned by the Service, outlives every handler.
struct HandlerContext {
  asio::io_context& io;
  const Options& options;
  Backend& backend;
  broker::ControllerClient& controller;
  std::string cluster_id = "dmq";
  // APIs implemented elsewhere (e.g. the group coordinator) by API key; a
  // key without an entry and without a handler here gets the request's own
  // error response (COORDINATOR_NOT_AVAILABLE or UNSUPPORTED_VERSION).
  std::map<int16_t, std::function<void(const ExchangePtr&)>> external;
  // InitProducerId with a transactional id goes to the transaction
  // coordinator (src/txn) when one is set; without, it is refused.
  std::function<void(const ExchangePtr&)> transactional_init_producer_id;
  // Topics whose auto-creation (Metadata) is in flight, so repeated Metadata
  // requests do not send the controller one create per request.
  std::set<std::string> auto_creating;
  // SASL mechanisms and credentials; null when no listener uses SASL.
  SaslService* sasl = nullptr;
  // The ACLs of the metadata image; null when --authorizer.enabled is off.
  security::AuthorizerCache* authorizer = nullptr;
  // queued.max.request.bytes and max.connections(.per.ip), shared by every
  // listener; null in tests that build a bare context (no bound).
  RequestBudget* request_budget = nullptr;
  ConnectionLimits* connection_limits = nullptr;
  // Client quotas; null in tests that build a bare context (no quotas).
  QuotaGate* quotas = nullptr;
  // Where Fetch v0-v3 answers are down-converted, off the loop; null: on
  // the loop (tests that build a bare context).
  net::WorkerPool* down_conversion = nullptr;
};

// Routes a decoded request (body not monostate) to its handler.
void dispatch(HandlerContext& ctx, const ExchangePtr& exchange);

// A throttled sender's answer carries its throttle time (KIP-219) in the
// responses that have the field (a copy only then).
template <class Resp>
Response make_response(const Exchange& ex, const Resp& body,
                       ErrorCode first_error = ErrorCode::kNone) {
  Response r;
  if constexpr (requires { body.throttle_time_ms; }) {
    if (ex.throttle_time_ms > 0) {
      Resp throttled = body;
      throttled.throttle_time_ms = std::max(throttled.throttle_time_ms, ex.throttle_time_ms);
      r.frame = encode_response(ex.request.header, throttled);
    } else {
      r.frame = encode_response(ex.request.header, body);
    }
  } else {
    r.frame = encode_response(ex.request.header, body);
  }
  r.error = first_error;
  r.throttle_ms = ex.throttle_time_ms;
  return r;
}
inline Response make_error(const Exchange& ex, ErrorCode error) {
  Response r;
  r.frame = encode_error_response(ex.request, error);
  r.error = error;
  r.throttle_ms = ex.throttle_time_ms;
  return r;
}

// An answer that fills in as asynchronous parts complete (controller calls);
// the last part to finish sends it.
template <class Resp>
struct PendingAnswer {
  Resp resp;
  int pending = 1;  // one for the handler that starts the parts
};
// The closure each part, and the starting handler once, calls when done:
// the last call answers with the first error of `results` for the metrics.
template <class Resp, class Results>
std::function<void()> answer_when_done(ExchangePtr ex, std::shared_ptr<PendingAnswer<Resp>> st,
                                       Results Resp::*results) {
  return [ex, st, results] {
    if (--st->pending > 0) return;
    ErrorCode first = ErrorCode::kNone;
    for (const auto& r : st->resp.*results)
      if (first == ErrorCode::kNone) first = r.error_code;
    ex->respond(make_response(*ex, st->resp, first));
  };
}

void handle_api_versions(HandlerContext& ctx, const ExchangePtr& ex);
void handle_metadata(HandlerContext& ctx, const ExchangePtr& ex);
void handle_produce(HandlerContext& ctx, const ExchangePtr& ex);
void handle_fetch(HandlerContext& ctx, const ExchangePtr& ex);
void handle_list_offsets(HandlerContext& ctx, const ExchangePtr& ex);
void handle_delete_records(HandlerContext& ctx, const ExchangePtr& ex);
void handle_create_topics(HandlerContext& ctx, const ExchangePtr& ex);
void handle_delete_topics(HandlerContext& ctx, const ExchangePtr& ex);
void handle_create_partitions(HandlerContext& ctx, const ExchangePtr& ex);
void handle_describe_configs(HandlerContext& ctx, const ExchangePtr& ex);
void handle_describe_cluster(HandlerContext& ctx, const ExchangePtr& ex);
void handle_describe_log_dirs(HandlerContext& ctx, const ExchangePtr& ex);
void handle_describe_producers(HandlerContext& ctx, const ExchangePtr& ex);
void handle_alter_configs(HandlerContext& ctx, const ExchangePtr& ex);
void handle_incremental_alter_configs(HandlerContext& ctx, const ExchangePtr& ex);
void handle_init_producer_id(HandlerContext& ctx, const ExchangePtr& ex);
void handle_offset_for_leader_epoch(HandlerContext& ctx, const ExchangePtr& ex);
void handle_describe_user_scram_credentials(HandlerContext& ctx, const ExchangePtr& ex);
void handle_alter_user_scram_credentials(HandlerContext& ctx, const ExchangePtr& ex);
void handle_describe_acls(HandlerContext& ctx, const ExchangePtr& ex);
void handle_create_acls(HandlerContext& ctx, const ExchangePtr& ex);
void handle_delete_acls(HandlerContext& ctx, const ExchangePtr& ex);
// handle_reassignments.cpp
void handle_alter_partition_reassignments(HandlerContext& ctx, const ExchangePtr& ex);
void handle_list_partition_reassignments(HandlerContext& ctx, const ExchangePtr& ex);
void handle_elect_leaders(HandlerContext& ctx, const ExchangePtr& ex);
// handle_quotas.cpp
void handle_describe_client_quotas(HandlerContext& ctx, const ExchangePtr& ex);
void handle_alter_client_quotas(HandlerContext& ctx, const ExchangePtr& ex);

// ---- shared helpers (handle_common.cpp) ----------------------------------------

// KIP-320 fencing for requests carrying current_leader_epoch (-1 skips it):
// FENCED_LEADER_EPOCH when older than the partition's, UNKNOWN_LEADER_EPOCH
// when newer; kNone otherwise (including unknown partitions).
ErrorCode check_leader_epoch(const cluster::MetadataImage& image, std::string_view topic,
                             int32_t partition, int32_t current_leader_epoch);
// A topic id as the Kafka protocol carries it (16 bytes) from the metadata
// image's text form ("8-4-4-4-12" hex); zero when malformed.
Uuid topic_uuid(std::string_view text);
// The topic with protocol id `id` (Metadata v10+, Fetch v13+), or nullptr.
const cluster::TopicState* find_topic_by_id(const cluster::MetadataImage& image, const Uuid& id);
// Kafka's topic-name rule: [a-zA-Z0-9._-]{1,249}, not "." or "..".
bool valid_topic_name(std::string_view name);
// The admin REST error code of ControllerClient mapped to a Kafka error.
ErrorCode admin_error(const broker::AdminResult& result);
// A topic config: the topic's override, else the broker default from Options
// (Kafka names: retention.ms, max.message.bytes, ...); "" if unknown.
std::string topic_config(const Options& options, const cluster::TopicState* topic,
                         const std::string& name);
// Every topic config name DMQ knows, with its broker default.
std::vector<std::pair<std::string, std::string>> topic_config_defaults(const Options& options);
// Brokers clients may connect to: the unfenced registered ones, plus this
// broker itself (it is serving the request) if the image does not list it yet.
struct BrokerAddress {
  int32_t id;
  std::string host;
  int32_t port;
  std::string rack;
};
// `self` is how this broker is named: the advertised address of the listener
// the request came in on (nullptr: the first listener's). Other brokers are
// named by their listener called `listener_name` when they registered one
// (Kafka's behaviour), else by their first listener.
std::vector<BrokerAddress> live_brokers(const HandlerContext& ctx,
                                        const cluster::MetadataImage& image,
                                        const HostPort* self = nullptr,
                                        std::string_view listener_name = {});
// The name of the listener `ex` arrived on; empty when unknown.
std::string_view listener_name_of(const Exchange& ex);
// The advertised address of the listener `ex` arrived on (defined in handle_common.cpp).
const HostPort& advertised_address(const Options& options, const Exchange& ex);

}  // namespace dmq::kafka
