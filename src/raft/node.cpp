#include "common/assert.h"
#include "raft/raft.h"
#include "raft/raft_core.h"

namespace dmq::raft {

Node::Node(const Config& config, Storage* storage)
    : raft_(std::make_unique<Raft>(config, storage)) {}
Node::~Node() = default;

void Node::tick() {
  raft_->tick();
}
StepResult Node::step(const Message& m) {
  return raft_->step(m);
}
ProposeResult Node::propose(std::string data) {
  return raft_->propose(EntryType::kNormal, std::move(data));
}
ProposeResult Node::propose_add_voter(NodeId id) {
  return raft_->propose_voter_change(EntryType::kAddVoter, id);
}
ProposeResult Node::propose_remove_voter(NodeId id) {
  return raft_->propose_voter_change(EntryType::kRemoveVoter, id);
}
ProposeError Node::transfer_leadership(NodeId target) {
  return raft_->transfer_leadership(target);
}
ProposeError Node::read_index(std::string context) {
  return raft_->read_index(std::move(context));
}
void Node::campaign() {
  raft_->campaign(CampaignKind::kElection);
}
bool Node::has_ready() const {
  return raft_->has_ready();
}
Ready Node::ready() {
  return raft_->ready();
}
void Node::advance(const Ready& rd) {
  raft_->advance(rd);
}
SnapshotMeta Node::snapshot_meta(LogIndex index) const {
  return raft_->snapshot_meta(index);
}
Status Node::status() const {
  return raft_->status();
}
LogIndex Node::commit_index() const {
  return raft_->log().committed();
}
LogIndex Node::applied_index() const {
  return raft_->log().applied();
}
std::optional<Term> Node::term_at(LogIndex index) const {
  return raft_->log().term(index);
}
NodeId Node::id() const {
  return raft_->id();
}
Role Node::role() const {
  return raft_->role();
}
Term Node::term() const {
  return raft_->term();
}
NodeId Node::leader() const {
  return raft_->leader();
}

const char* to_string(ProposeError error) {
  switch (error) {
    case ProposeError::kOk:
      return "ok";
    case ProposeError::kNotLeader:
      return "not_leader";
    case ProposeError::kTransferring:
      return "transferring";
    case ProposeError::kConfigChangePending:
      return "config_change_pending";
    case ProposeError::kInvalid:
      return "invalid";
  }
  return "unknown";
}

const char* to_string(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre_candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

const char* to_string(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "probe";
    case ProgressState::kReplicate:
      return "replicate";
    case ProgressState::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

}  // namespace dmq::raft
