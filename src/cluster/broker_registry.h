#pragma once
// BrokerRegistry: the controller leader's soft state about broker sessions
// (last heartbeat times) and its registration / heartbeat / fencing decisions.
//
// Not replicated: a newly elected leader starts empty and calls
// reset_grace_period(), so every broker gets a full session instead of being
// fenced for heartbeats the new leader never saw (KIP-631). Decisions return
// record batches to propose; the image changes only when they are committed
// and applied. Time is passed in (now_ms, any monotonic clock): no clock here.
//
// Threading: one owner (the controller's loop thread).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cluster/election.h"
#include "cluster/error.h"
#include "cluster/metadata_state.h"
#include "cluster/records.h"

namespace dmq::cluster {

struct BrokerRegistrationRequest {
  BrokerId broker_id;
  std::string incarnation_id;
  std::string kafka_host;
  uint16_t kafka_port = 0;
  std::string http_host;
  uint16_t http_port = 0;
  std::string rack;
  std::vector<BrokerListener> listeners;  // may be empty (an older broker)
};

struct HeartbeatDecision {
  bool fenced = false;  // the broker's registration is currently fenced
  // Records to propose: the unfence and the elections it enables. Empty when
  // nothing needs to change or a proposal is already in flight.
  RecordBatch propose;
};

class BrokerRegistry {
 public:
  struct Options {
    int64_t session_timeout_ms = 9000;  // Kafka's broker.session.timeout.ms
    // A proposal for a broker that is not yet reflected in the image is not
    // repeated before this long (it is committing, or was lost with a leader).
    int64_t proposal_retry_ms = 2000;
    ElectionPolicy election;
  };
  explicit BrokerRegistry(Options options) : options_(options) {}

  // A new controller leader: every registered broker's session restarts now.
  void reset_grace_period(const MetadataState& state, int64_t now_ms);

  // The batch to propose for a registration, or an error:
  // kInvalidRequest (bad id, empty incarnation, zero port), kDuplicateBrokerId
  // (another incarnation holds the id, unfenced and with a live session).
  // Re-registration of the same incarnation, or of a new incarnation after the
  // old session expired, fences the old epoch (moving its leaderships) in the
  // same batch before the new RegisterBroker; the new epoch is the index of
  // the committed entry.
  Result<RecordBatch> handle_register(const MetadataState& state,
                                      const BrokerRegistrationRequest& request, int64_t now_ms);

  // kUnknownBroker (register first), kStaleBrokerEpoch (an old incarnation or
  // registration: the broker must re-register). A fenced broker that is not
  // shutting down gets an unfence proposal once it has caught up with the
  // metadata log up to its own registration (`metadata_applied_index`, the
  // broker's applied index, >= its epoch: KIP-631), so it never leads
  // partitions it does not yet know about.
  Result<HeartbeatDecision> handle_heartbeat(const MetadataState& state, BrokerId broker,
                                             BrokerEpoch epoch, LogIndex metadata_applied_index,
                                             int64_t now_ms);

  // A registration (broker and the epoch it registered with).
  using Registration = std::pair<BrokerId, BrokerEpoch>;

  // One batch fencing every unfenced broker whose session expired, with the
  // leadership moves. Empty if none (or their fence is already in flight).
  // `gone` names registrations whose process is known to be gone (the
  // controller's watch connection closed and the broker refused a new one:
  // controller/broker_watch.h); those are fenced at once, live session or not,
  // grace period or not, if the broker still holds that epoch.
  RecordBatch expired_brokers(const MetadataState& state, int64_t now_ms,
                              const std::set<Registration>& gone = {});

  // Controlled shutdown (Kafka's ControlledShutdown / KIP-631 wantShutDown):
  // the broker is fenced with its leaderships moved, and stays fenced while it
  // keeps heartbeating. kUnknownBroker, kStaleBrokerEpoch. An empty batch
  // means it is fenced (committed): the broker may exit. Until then every call
  // returns the fence batch again (a duplicate is rejected at apply).
  Result<RecordBatch> controlled_shutdown(const MetadataState& state, BrokerId broker,
                                          BrokerEpoch epoch, int64_t now_ms);

  // Session bookkeeping, for /v1/brokers or tests.
  std::optional<int64_t> last_contact_ms(BrokerId broker) const;

 private:
  struct Session {
    int64_t last_contact_ms = 0;
    bool shutting_down = false;
    // When a fence / unfence proposal was last made (it may be in flight).
    std::optional<int64_t> fence_proposed_ms;
    std::optional<int64_t> unfence_proposed_ms;
  };
  bool in_flight(const std::optional<int64_t>& proposed_ms, int64_t now_ms) const;
  bool session_alive(BrokerId broker, int64_t now_ms) const;
  Status check_epoch(const MetadataState& state, BrokerId broker, BrokerEpoch epoch) const;

  Options options_;
  std::map<BrokerId, Session> sessions_;
};

}  // namespace dmq::cluster
