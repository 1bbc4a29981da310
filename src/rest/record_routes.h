#pragma once
// HTTP produce and consume (DESIGN.md §5, the shape of Confluent's REST Proxy v2):
//
//   POST /v1/topics/{t}/records  {"records":[{"key","value","partition"?,"headers"?}]}
//     -> 200 {"offsets":[{"partition","offset"}...]}, one per record in order,
//        after the acks=all acknowledgement (durable on every ISR member).
//   GET  /v1/topics/{t}/partitions/{p}/records?offset=&max_bytes=&max_records=&timeout_ms=
//     -> 200 {"topic","partition","records":[{"offset","timestamp","key","value","headers"}],
//             "next_offset","high_watermark","log_start_offset"}
//        offset: a number, "earliest" (default) or "latest"; timeout_ms (0-30000,
//        default 0) long-polls while nothing is there to read.
//
// Record bytes in and out as rest/record_json.h says. Keyed records go to
// Kafka's murmur2 partition (the one any Kafka client picks), unkeyed ones of
// a request to one partition, round robin across requests.
//
// Served on the storage directly: a produce appends one batch per partition
// through the partition's leader (here through the Backend, elsewhere through
// its internal append endpoint); a consume is answered by the partition's
// leader, to which any other node forwards it once (X-DMQ-Forwarded).
// Errors are JSON: 400 bad input, 404 unknown topic or partition, 413 a batch
// over max.message.bytes, 416 an offset outside the log (the message names
// the range), 503 no leader / not enough replicas / timed out (retry).
//
// Threads: HTTP worker threads; the loop for storage. `io` and `backend` are
// null on a controller-only node, which forwards both to a broker. All
// references must outlive the HTTP server.

#include <cstdint>

#include "broker/backend.h"
#include "broker/metadata_view.h"
#include "group/share_io.h"
#include "net/event_loop.h"
#include "net/http_server.h"

namespace dmq::rest {

void register_record_routes(net::HttpServer& http, net::EventLoop& loop, group::ShareIo* io,
                            broker::Backend* backend, const broker::MetadataView& view,
                            int32_t self_id);

}  // namespace dmq::rest
