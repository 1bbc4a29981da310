#pragma once
// txn::Peers: how a transaction coordinator reaches other brokers — the
// leader of a partition its transaction wrote to (to write a marker there),
// and, for a partition leader, the coordinator of a transactional id (the
// KIP-890 verification). Implemented over the signed node-to-node HTTP API
// (src/rest/txn_peers.h); tests use fakes.
//
// Threads: called on the loop; `done` runs later on the loop.

#include <cstdint>
#include <functional>
#include <string>

#include "broker/backend.h"
#include "kafka/protocol/error_code.h"

namespace dmq::txn {

struct MarkerWrite {
  std::string topic;
  int32_t partition = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  bool commit = false;
  int32_t coordinator_epoch = 0;
};

class Peers {
 public:
  using Done = std::function<void(kafka::ErrorCode)>;
  virtual ~Peers() = default;
  // Writes `marker` on broker `broker_id` (the partition's leader).
  virtual void write_marker(int32_t broker_id, const MarkerWrite& marker, Done done) = 0;
  // Asks broker `broker_id` (the transactional id's coordinator).
  virtual void verify(int32_t broker_id, const broker::TxnVerification& v, Done done) = 0;
};

}  // namespace dmq::txn
