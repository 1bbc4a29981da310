#pragma once
// Value types of the Raft core: ids, log entries, hard state, snapshots and the
// messages peers exchange. All are plain copyable structs; none does I/O.
//
// Messages are network input: the core validates them (see Node::step) and
// never asserts on their contents. The adapter owns their wire encoding.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/strong_id.h"

namespace dmq::raft {

// A distinct integer type per meaning, so a term is never passed as an index.
using Term = StrongId<struct TermTag, uint64_t>;          // 0 = before any election
using LogIndex = StrongId<struct LogIndexTag, uint64_t>;  // first real entry is 1; 0 = none
using NodeId = StrongId<struct NodeIdTag, uint64_t>;      // 0 = none

inline constexpr NodeId kNoNode{0};

enum class EntryType : uint8_t {
  kNormal = 0,       // client data for the state machine
  kNoOp = 1,         // appended by every new leader (Raft paper §8); data empty
  kAddVoter = 2,     // data = decimal node id; takes effect when appended (thesis §4.1)
  kRemoveVoter = 3,  // data = decimal node id; takes effect when appended
};

struct Entry {
  Term term;
  LogIndex index;
  EntryType type = EntryType::kNormal;
  std::string data;

  // Approximate size used for batching limits.
  size_t size_bytes() const { return data.size() + 24; }
  bool operator==(const Entry&) const = default;
};

// Encode/decode the payload of kAddVoter/kRemoveVoter entries. decode returns
// nullopt for bytes that are not a positive decimal id (input, never asserted).
std::string encode_node_id(NodeId id);
std::optional<NodeId> decode_node_id(const std::string& data);

// What must be on stable storage before any message of the same Ready is sent
// (Raft paper Figure 2, "Persistent state on all servers").
struct HardState {
  Term term;
  NodeId vote;      // kNoNode if no vote was cast in `term`
  LogIndex commit;  // persisting it is an optimisation, not a safety need
  bool operator==(const HardState&) const = default;
};

struct SnapshotMeta {
  LogIndex index;              // last entry covered by the snapshot
  Term term;                   // term of that entry
  std::vector<NodeId> voters;  // the configuration as of `index`
  bool operator==(const SnapshotMeta&) const = default;
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data;  // opaque state-machine image, owned by the application
  bool empty() const { return meta.index == LogIndex{0}; }
};

// A confirmed linearizable read (thesis §6.4): once the application has applied
// through `index`, it may answer the read identified by `context`.
struct ReadState {
  std::string context;
  LogIndex index;
  bool operator==(const ReadState&) const = default;
};

enum class MessageType : uint8_t {
  kPreVote = 0,          // thesis §9.6: log_index/log_term = candidate's last entry
  kPreVoteResponse = 1,  // reject = !granted
  kVote = 2,             // Raft §5.2; leader_transfer = sent after TimeoutNow
  kVoteResponse = 3,
  kAppend = 4,             // Raft §5.3: log_index/log_term = prev entry; entries; commit
  kAppendResponse = 5,     // success: index = last matching index; reject: hint fields
  kHeartbeat = 6,          // commit, seq (ReadIndex round, thesis §6.4)
  kHeartbeatResponse = 7,  // seq echoed
  kSnapshot = 8,          // one chunk: snapshot_meta, snapshot_offset, snapshot_data, snapshot_done
  kSnapshotResponse = 9,  // snapshot_offset = bytes the follower holds of that snapshot
  kTimeoutNow = 10,       // thesis §3.10: start an election now
};

const char* to_string(MessageType type);

struct Message {
  MessageType type = MessageType::kHeartbeat;
  NodeId from;
  NodeId to;
  Term term;  // sender's term (for kPreVote: the term it would campaign in)

  // kAppend: index/term of the entry preceding `entries`.
  // kVote/kPreVote: index/term of the candidate's last entry.
  LogIndex log_index;
  Term log_term;
  std::vector<Entry> entries;
  LogIndex commit;  // kAppend, kHeartbeat: leader's commit index (capped)

  // Responses.
  bool reject = false;
  LogIndex index;       // kAppendResponse: highest index known to match (success)
                        //   or the rejected prev index (reject)
  LogIndex hint_index;  // kAppendResponse reject: first index of hint_term in the
                        //   follower's log, or its last index + 1 if too short
  Term hint_term;       // kAppendResponse reject: the conflicting term, 0 if none

  uint64_t seq = 0;              // kHeartbeat/kHeartbeatResponse: ReadIndex round
  bool leader_transfer = false;  // kVote/kPreVote: campaign forced by TimeoutNow

  // kSnapshot / kSnapshotResponse: chunked InstallSnapshot (Raft §7).
  SnapshotMeta snapshot_meta;
  uint64_t snapshot_offset = 0;
  std::string snapshot_data;
  bool snapshot_done = false;
};

}  // namespace dmq::raft
