#pragma once
// Read endpoints of the REST API, answered from this node's own metadata
// view (DESIGN.md §3): GET /v1/brokers, GET /v1/topics, GET /v1/topics/{name}.

#include <functional>

#include "broker/metadata_view.h"
#include "cluster/json_views.h"
#include "net/http_server.h"
#include "rest/rest_auth.h"

namespace dmq::rest {

// `offsets` fills log_start_offset/high_watermark for partitions this node
// hosts (may be empty: the fields render as null).
// `listing_filter` (rest_auth.h; empty without the authorizer) limits GET
// /v1/topics to the topics the caller may describe.
void register_metadata_routes(net::HttpServer& http, const broker::MetadataView& view,
                              cluster::PartitionOffsetsFn offsets,
                              ListFilterFn listing_filter = {});

// Gauges read from the view at each scrape: brokers by state, topics,
// partitions and offline partitions (no leader).
void register_metadata_metrics(const broker::MetadataView& view);

}  // namespace dmq::rest
