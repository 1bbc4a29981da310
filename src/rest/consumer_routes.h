#pragma once
// Consumer-group consumption over HTTP (Confluent REST Proxy v2's consumers,
// under /v1; DESIGN.md §5):
//
//   POST   /v1/consumers/{g}  {"name"?,"auto.offset.reset":"earliest|latest",
//                              "auto.commit.enable":"true|false"}
//            -> {"instance_id","base_uri"}   (409 if the name is taken)
//   POST   {base}/subscription  {"topics":[...]}            -> 204
//   GET    {base}/subscription                               -> {"topics":[...]}
//   DELETE {base}/subscription                               -> 204 (leaves the group)
//   GET    {base}/records?timeout=&max_bytes=                -> {"records":[{"topic","partition",
//            "offset","timestamp","key","value","headers"}]}  (long poll up to timeout ms)
//   POST   {base}/offsets  {"offsets":[{"topic","partition","offset"}]} or no body
//            -> {} (commits offset + 1 of each given record, or every position consumed)
//   GET    {base}/offsets  {"partitions":[{"topic","partition"}]} or no body (the assigned)
//            -> {"offsets":[{"topic","partition","offset","metadata"}]} (committed, -1: none)
//   DELETE {base}  -> 204 (commits with auto.commit.enable, leaves the group)
//
// where {base} = /v1/consumers/{g}/instances/{id}. Instances are real members
// of the Kafka group (rest/consumer_instances.h). They live on the group's
// coordinator: another node relays the POST that creates one there, and
// base_uri names that node; an instance request on any other node is a 404.
// Errors are JSON: 400 bad input, 404 consumer_instance_not_found,
// 409 consumer_instance_exists / not_subscribed / rebalance_in_progress, 503
// coordinator_not_available (retry).
//
// Threads: HTTP worker threads; instances live on the loop. `groups` and
// `io` are null on a controller-only node (it relays creation only).

#include <cstdint>

#include "broker/metadata_view.h"
#include "common/options.h"
#include "group/coordinator.h"
#include "group/share_io.h"
#include "net/event_loop.h"
#include "net/http_server.h"

namespace dmq::rest {

void register_consumer_routes(net::HttpServer& http, net::EventLoop& loop,
                              group::Coordinator* groups, group::ShareIo* io,
                              const broker::MetadataView& view, const Options& options);

}  // namespace dmq::rest
