#pragma once
// Share groups over REST (DESIGN.md §5):
//
//   POST /v1/share-groups/{g}/fetch  {"topics":[t],"max_records":N,"wait_ms":W,"member_id"?}
//     -> {"member_id":m,"records":[{"topic","partition","offset","key","value","headers",
//                                   "delivery_count","timestamp"}]}
//   POST /v1/share-groups/{g}/ack    {"member_id":m,"acks":[{"topic","partition","offset",
//                                     "type":"accept|release|reject","error"?}]}
//     -> {"acknowledged":n}
//   GET  /v1/share-groups/{g}        members, and per partition the acknowledged start
//                                    offset, records in flight, dead-lettered count
//
// Keys, values and header values are JSON strings when they are valid UTF-8;
// otherwise base64, flagged by "key_encoding"/"value_encoding":"base64" (and
// "encoding":"base64" on a header). null stays null.
//
// Any node answers: the group's coordinator (leader of its partition of
// __share_group_state, created on first use) serves it, others forward the
// request there once (X-DMQ-Share-Forwarded). Errors are JSON: 400 bad input,
// 404 unknown_topic / unknown_group / record_not_delivered, 409
// record_not_in_flight / record_locked_by_another_member, 503 while the
// coordinator moves or loads (retry).
//
// Also the internal endpoints the share coordinators use to read and append
// partitions this node leads: POST /internal/share/read, /internal/share/append.
//
// Threads: handlers run on HTTP threads and reach the coordinator and the
// backend on the loop. `shares`/`backend` may be null (controller-only node:
// everything is forwarded). All references must outlive the HTTP server.

#include "broker/backend.h"
#include "broker/metadata_view.h"
#include "group/share_coordinator.h"
#include "net/event_loop.h"
#include "net/http_server.h"

namespace dmq::rest {

void register_share_group_routes(net::HttpServer& http, net::EventLoop& loop,
                                 group::ShareCoordinator* shares, broker::Backend* backend,
                                 const broker::MetadataView& view, int32_t self_id);

}  // namespace dmq::rest
