#pragma once
// GET /v1/groups and GET /v1/groups/{id} (DESIGN.md §3).
//
// A group's state lives only on its coordinator (the leader of its
// __consumer_offsets partition), so:
// - GET /v1/groups/{id} is answered by the coordinator: another node forwards
//   the request there (header X-DMQ-Group-Forwarded stops a second hop) and
//   the answer names the coordinator ("coordinator": id). 503
//   coordinator_load_in_progress while it loads; 503 coordinator_not_available
//   when the partition has no leader; 404 unknown_group.
// - GET /v1/groups gathers every live broker's own list (?local=1 asks one
//   broker for its own groups only).
// High watermarks of partitions the coordinator does not host are asked from
// their leaders' REST API, so lag is filled where a leader answers (null
// otherwise).
//
// Threads: handlers run on HTTP threads; the coordinator is read on the
// loop through net::EventLoop::call. `coordinator` may be null (controller-only
// node: everything is forwarded). `coordinator`, `view` and `loop` must
// outlive the HTTP server.

#include "broker/metadata_view.h"
#include "group/coordinator.h"
#include "net/event_loop.h"
#include "net/http_server.h"
#include "rest/rest_auth.h"

namespace dmq::rest {

// `signer` authenticates the requests to other nodes (their group listings
// and partition offsets) when REST authentication is on; `listing_filter`
// (rest_auth.h) limits GET /v1/groups to the groups the caller may describe.
void register_group_routes(net::HttpServer& http, net::EventLoop& loop,
                           group::Coordinator* coordinator, const broker::MetadataView& view,
                           int32_t self_id, net::RequestSigner signer = {},
                           ListFilterFn listing_filter = {});

}  // namespace dmq::rest
