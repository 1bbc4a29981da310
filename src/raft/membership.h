#pragma once
// Voter sets and the single-server change entries that edit them (thesis §4.1).

#include <vector>

#include "raft/types.h"

namespace dmq::raft {

// Sorted, without duplicates.
using Voters = std::vector<NodeId>;

Voters normalized(Voters voters);
bool contains(const Voters& voters, NodeId id);

// If `e` is a kAddVoter/kRemoveVoter entry with a valid payload, applies it to
// `voters` and returns true. Undecodable payloads change nothing (every node
// decodes the same bytes the same way, so they stay in agreement).
bool apply_voter_change(Voters& voters, const Entry& e);

}  // namespace dmq::raft
