#pragma once
// txn::Peers over the signed node-to-node HTTP API: POST
// /internal/txn/marker on a partition's leader and /internal/txn/verify on a
// transactional id's coordinator (served by txn_routes.cpp), on a small pool
// of client threads whose answers come back to the loop. An unreachable
// peer answers NOT_LEADER_OR_FOLLOWER (marker: the coordinator retries) or
// NOT_ENOUGH_REPLICAS (verification: the producer retries).
//
// Threads: calls on the loop thread; `done` on the loop thread. Ownership:
// `io` and `view` must outlive it; destroying it joins the client threads
// and drops answers still out.

#include "broker/metadata_view.h"
#include "rest/peer_workers.h"
#include "txn/peers.h"

namespace dmq::rest {

class TxnPeerIo : public txn::Peers {
 public:
  TxnPeerIo(asio::io_context& io, const broker::MetadataView& view);
  void write_marker(int32_t broker_id, const txn::MarkerWrite& marker, Done done) override;
  void verify(int32_t broker_id, const broker::TxnVerification& v, Done done) override;

 private:
  // POSTs `path` to broker `broker_id` on a worker; the "error" of its JSON
  // answer (or `unreachable`) goes to `done` on the loop.
  void call(int32_t broker_id, std::string path, kafka::ErrorCode unreachable, Done done);

  const broker::MetadataView& view_;
  PeerWorkers workers_;
};

}  // namespace dmq::rest
