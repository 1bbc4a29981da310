#include "raft/quorum.h"

#include <algorithm>

namespace dmq::raft {

uint64_t quorum_value(const Voters& voters, const std::function<uint64_t(NodeId)>& value_of) {
  if (voters.empty()) return 0;
  std::vector<uint64_t> values;
  values.reserve(voters.size());
  for (NodeId id : voters) values.push_back(value_of(id));
  // Sorted descending, the value at position quorum-1 is reached by exactly a
  // quorum of voters (and by every voter before it).
  std::sort(values.begin(), values.end(), std::greater<>());
  return values[quorum_size(values.size()) - 1];
}

VoteResult tally_votes(const Voters& voters, const std::map<NodeId, bool>& votes) {
  size_t granted = 0;
  size_t rejected = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    if (it->second) {
      ++granted;
    } else {
      ++rejected;
    }
  }
  size_t q = quorum_size(voters.size());
  if (granted >= q) return VoteResult::kWon;
  if (rejected > voters.size() - q) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace dmq::raft
