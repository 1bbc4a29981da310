#pragma once
// GET /v1/log-dirs: this node's partition-log directory, its volume and every
// replica hosted in it (REST's DescribeLogDirs; each node answers for itself):
//
//   {"node_id":1,"log_dirs":[{"path","total_bytes","usable_bytes","error":null,
//     "partitions":[{"topic","partition","size_bytes","offset_lag","leader",
//                    "log_start_offset","log_end_offset","high_watermark"}]}]}
//
// "error" is "kafka_storage_error" when the volume cannot be read. A node
// without the broker role (`backend` null) answers an empty "log_dirs".
//
// Threads: HTTP worker threads; the replicas are read on the loop.

#include <cstdint>

#include "broker/backend.h"
#include "net/event_loop.h"
#include "net/http_server.h"

namespace dmq::rest {

void register_log_dir_routes(net::HttpServer& http, net::EventLoop& loop, broker::Backend* backend,
                             int32_t self_id);

}  // namespace dmq::rest
