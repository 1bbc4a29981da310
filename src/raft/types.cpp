#include "raft/types.h"

#include <algorithm>
#include <charconv>

#include "raft/membership.h"

namespace dmq::raft {

std::string encode_node_id(NodeId id) {
  return std::to_string(id.value);
}

std::optional<NodeId> decode_node_id(const std::string& data) {
  uint64_t value = 0;
  const char* end = data.data() + data.size();
  auto [ptr, ec] = std::from_chars(data.data(), end, value);
  if (ec != std::errc() || ptr != end || data.empty() || value == 0) return std::nullopt;
  return NodeId{value};
}

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResponse:
      return "PreVoteResponse";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResponse:
      return "VoteResponse";
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResponse:
      return "AppendResponse";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResponse:
      return "HeartbeatResponse";
    case MessageType::kSnapshot:
      return "Snapshot";
    case MessageType::kSnapshotResponse:
      return "SnapshotResponse";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
  }
  return "Unknown";
}

Voters normalized(Voters voters) {
  std::sort(voters.begin(), voters.end());
  voters.erase(std::unique(voters.begin(), voters.end()), voters.end());
  return voters;
}

bool contains(const Voters& voters, NodeId id) {
  return std::find(voters.begin(), voters.end(), id) != voters.end();
}

bool apply_voter_change(Voters& voters, const Entry& e) {
  if (e.type != EntryType::kAddVoter && e.type != EntryType::kRemoveVoter) return false;
  std::optional<NodeId> id = decode_node_id(e.data);
  if (!id) return false;
  if (e.type == EntryType::kAddVoter) {
    voters.push_back(*id);
    voters = normalized(std::move(voters));
  } else {
    voters.erase(std::remove(voters.begin(), voters.end(), *id), voters.end());
  }
  return true;
}

}  // namespace dmq::raft
