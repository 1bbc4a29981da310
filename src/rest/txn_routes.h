#pragma once
// GET /v1/transactions: the transactions the coordinators know, gathered
// from every live broker (each lists the transactional ids whose
// __transaction_state partition it leads; ?local=1 asks one broker for its
// own only). Each entry: transactional_id, producer_id, producer_epoch,
// state (Kafka's names), timeout_ms, start_time_ms, partitions
// [{topic, partition}], coordinator (broker id).
//
// And the node-to-node endpoints rest/txn_peers.h calls (cluster members
// only, signed when a cluster secret is set; answer {"error": Kafka code}):
// POST /internal/txn/marker (write a COMMIT/ABORT marker to a partition led
// here) and POST /internal/txn/verify (KIP-890: is this partition in that
// producer's ongoing transaction, for an id coordinated here).
//
// Threads: handlers run on HTTP threads; the coordinator is read on the loop
// through net::EventLoop::call. `coordinator` may be null (controller-only
// node). `coordinator`, `view` and `loop` must outlive the HTTP server.

#include "broker/metadata_view.h"
#include "net/event_loop.h"
#include "net/http_server.h"
#include "txn/coordinator.h"

namespace dmq::rest {

void register_txn_routes(net::HttpServer& http, net::EventLoop& loop, txn::Coordinator* coordinator,
                         const broker::MetadataView& view, int32_t self_id);

}  // namespace dmq::rest
