#pragma once
// Majority arithmetic over a voter set (Raft §5.2, §5.3), kept apart from the
// state machine so it can be tested on its own.

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "raft/membership.h"

namespace dmq::raft {

inline size_t quorum_size(size_t voters) {
  return voters / 2 + 1;
}

// The largest value v such that a majority of `voters` report a value >= v
// (`value_of` gives each voter's value). With no voters, returns 0.
uint64_t quorum_value(const Voters& voters, const std::function<uint64_t(NodeId)>& value_of);

enum class VoteResult : uint8_t { kPending, kWon, kLost };

// Tallies recorded votes (true = granted) of members of `voters`; votes from
// others are not counted.
VoteResult tally_votes(const Voters& voters, const std::map<NodeId, bool>& votes);

}  // namespace dmq::raft
