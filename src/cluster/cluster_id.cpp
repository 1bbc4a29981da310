#include "cluster/cluster_id.h"

#include <cstdint>
#include <cstdio>

namespace dmq::cluster {

std::string cluster_id_of(const std::vector<Voter>& founding_voters) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (const auto& voter : founding_voters) {
    for (char c : std::to_string(voter.node_id) + "@" + voter.http.to_string() + ",") {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

}  // namespace dmq::cluster
