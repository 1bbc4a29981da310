#pragma once
// The cluster id that Metadata v2+, DescribeCluster and GET /v1/cluster report.

#include <string>
#include <vector>

#include "common/options.h"

namespace dmq::cluster {

// Derived from the founding voters, which every founder shares, so all nodes
// report the same id without an extra round: 16 hex digits.
std::string cluster_id_of(const std::vector<Voter>& founding_voters);

}  // namespace dmq::cluster
