#pragma once
// One consumer group's coordinator state machine (Kafka's classic group
// protocol: GroupCoordinator.scala / GroupMetadata.scala in Apache Kafka 3.7).
//
// Pure and deterministic: no I/O, no clock, no randomness of its own. Time
// arrives as `now` arguments and tick(); new member ids come from the
// injected `new_uuid`. Requests that Kafka parks (JoinGroup until the
// rebalance completes, a follower's SyncGroup until the leader's assignment
// arrives) return nullopt; their answers later appear in take_replies(),
// tagged with the Token the caller passed in.
//
// Persistence is the caller's job: after any call, metadata_dirty() says the
// group's metadata changed in a way Kafka writes to __consumer_offsets
// (assignment after the leader's SyncGroup, group became Empty, a static
// member was replaced). The caller should write snapshot() and deliver the
// replies produced by that call only once the write is acknowledged.
// Offsets are applied with apply_commit() once their record is acknowledged.
//
// States (Kafka's): Empty -> PreparingRebalance -> CompletingRebalance ->
// Stable, back to PreparingRebalance on membership or protocol changes;
// Dead once removed (DeleteGroups, expiry, unloaded).
//
// Threads: not thread-safe; the coordinator uses it on the event loop only.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "group/types.h"

namespace dmq::group {

struct Protocol {
  std::string name;
  std::string metadata;  // opaque (ConsumerProtocolSubscription for "consumer")
  bool operator==(const Protocol&) const = default;
};

struct GroupConfig {
  int32_t min_session_timeout_ms = 6000;      // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;   // group.max.session.timeout.ms
  int32_t initial_rebalance_delay_ms = 3000;  // group.initial.rebalance.delay.ms
  // A fresh UUID string per call (member ids are "<client or instance id>-<uuid>").
  std::function<std::string()> new_uuid;
};

struct JoinParams {
  std::string member_id;  // "" for a new member
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;  // JoinGroup v0: the session timeout
  std::string protocol_type;
  std::vector<Protocol> protocols;
  bool require_known_member_id = false;  // JoinGroup v4+ (KIP-394)
};

struct JoinAnswer {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string metadata;
  };
  Error error = Error::kNone;
  int32_t generation_id = -1;
  std::string protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader_id;
  std::string member_id;
  std::vector<Member> members;   // only for the leader
  bool skip_assignment = false;  // KIP-814: a static leader rejoined a Stable group
};

struct SyncParams {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;        // SyncGroup v5+
  std::optional<std::string> protocol_name;        // SyncGroup v5+
  std::map<std::string, std::string> assignments;  // from the leader only
};

struct SyncAnswer {
  Error error = Error::kNone;
  std::string protocol_type;
  std::optional<std::string> protocol_name;
  std::string assignment;
};

// The late answer to a parked request.
struct Reply {
  Token token = 0;
  std::variant<JoinAnswer, SyncAnswer> answer;
};

struct MemberView {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::string metadata;  // of the selected protocol ("" before one is selected)
  std::string assignment;
};

// What is persisted as GroupMetadataValue (and what a new coordinator
// restores after a failover).
struct GroupSnapshot {
  std::string protocol_type;
  int32_t generation_id = 0;
  std::optional<std::string> protocol_name;
  std::optional<std::string> leader_id;
  int64_t state_timestamp_ms = -1;
  std::vector<MemberView> members;
};

class Group {
 public:
  Group(std::string id, GroupConfig config);
  // A group as a new coordinator loads it: Stable if it has members (their
  // session timers restart at `now`), else Empty. Kafka does the same.
  static Group restore(std::string id, GroupConfig config, const GroupSnapshot& snapshot,
                       TimeMs now);

  std::optional<JoinAnswer> handle_join(const JoinParams& params, Token token, TimeMs now);
  std::optional<SyncAnswer> handle_sync(const SyncParams& params, Token token, TimeMs now);
  Error handle_heartbeat(const std::string& member_id,
                         const std::optional<std::string>& group_instance_id, int32_t generation_id,
                         TimeMs now);
  // One member of a LeaveGroup (v3+ names several).
  Error handle_leave(const std::string& member_id,
                     const std::optional<std::string>& group_instance_id, TimeMs now);
  // Session, join, sync and pending-member deadlines.
  void tick(TimeMs now);

  // OffsetCommit's membership checks (Kafka's validateOffsetCommit); a valid
  // member's session is refreshed.
  Error validate_offset_commit(const std::string& member_id,
                               const std::optional<std::string>& group_instance_id,
                               int32_t generation_id, TimeMs now);
  void apply_commit(const TopicPartition& tp, CommittedOffset offset);
  bool erase_offset(const TopicPartition& tp);
  // Offsets due to expire (offsets.retention.minutes, KIP-211): only while
  // the group is Empty, counted from when it became Empty (consumer groups)
  // or from the commit (groups that never had members).
  std::vector<TopicPartition> expired_offsets(TimeMs now, int64_t retention_ms) const;
  // Empty and without offsets: the caller may remove it (and tombstone it).
  bool removable() const { return state_ == GroupState::kEmpty && offsets_.empty(); }
  // Answers every parked request with `error` and moves to Dead (the group
  // was deleted or this broker stopped coordinating it).
  void become_dead(Error error);
  // DeleteGroups refuses a group with members (NON_EMPTY_GROUP).
  bool has_members() const { return !members_.empty(); }

  std::vector<Reply> take_replies();
  bool metadata_dirty() const { return metadata_dirty_; }
  void clear_metadata_dirty() { metadata_dirty_ = false; }

  const std::string& id() const { return id_; }
  GroupState state() const { return state_; }
  int32_t generation_id() const { return generation_; }
  const std::string& protocol_type() const { return protocol_type_; }
  const std::optional<std::string>& protocol_name() const { return protocol_name_; }
  const std::optional<std::string>& leader_id() const { return leader_; }
  const std::map<TopicPartition, CommittedOffset>& offsets() const { return offsets_; }
  std::vector<MemberView> members() const;
  GroupSnapshot snapshot() const;
  uint64_t rebalances() const { return rebalances_; }

 private:
  struct Member {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::string protocol_type;
    std::vector<Protocol> protocols;
    std::string assignment;
    std::optional<Token> awaiting_join;
    std::optional<Token> awaiting_sync;
    TimeMs session_deadline{0};
  };

  JoinAnswer join_error(Error error, const std::string& member_id) const;
  bool supports_protocols(const std::string& type, const std::vector<Protocol>& protocols) const;
  std::set<std::string> candidate_protocols() const;
  std::string select_protocol() const;
  std::string metadata_for(const Member& m, const std::string& protocol) const;
  Error validate_member(const std::string& member_id,
                        const std::optional<std::string>& instance_id) const;
  JoinAnswer current_generation_answer(const Member& m) const;

  std::optional<JoinAnswer> join_new_member(const JoinParams& p, Token token, TimeMs now);
  std::optional<JoinAnswer> join_known_member(const JoinParams& p, Token token, TimeMs now);
  std::optional<JoinAnswer> replace_static_member(const std::string& old_id,
                                                  const std::string& new_id, const JoinParams& p,
                                                  Token token, TimeMs now);
  // The member's client, timeouts and protocols from its JoinGroup; the session restarts.
  static void take_join_params(Member& m, const JoinParams& p, TimeMs now);
  void add_member_and_rebalance(const std::string& id, const JoinParams& p, Token token,
                                TimeMs now);
  void update_member(Member& m, const JoinParams& p, Token token);
  void remove_member_and_update(const std::string& id, Error reply_error, TimeMs now);
  void elect_leader_if_missing();

  void maybe_prepare_rebalance(TimeMs now);
  void prepare_rebalance(TimeMs now);
  void maybe_complete_join(TimeMs now);
  void complete_join(TimeMs now);
  void complete_sync(const std::map<std::string, std::string>& assignments, TimeMs now);
  void become(GroupState next, TimeMs now);
  void reply_join(Token token, JoinAnswer answer);
  void reply_sync(Token token, SyncAnswer answer);
  int32_t max_rebalance_timeout_ms() const;

  std::string id_;
  GroupConfig config_;
  GroupState state_ = GroupState::kEmpty;
  int64_t state_timestamp_ms_ = -1;
  int32_t generation_ = 0;
  std::string protocol_type_;
  std::optional<std::string> protocol_name_;
  std::optional<std::string> leader_;
  std::map<std::string, Member> members_;
  std::map<std::string, std::string> static_members_;  // instance id -> member id
  std::map<std::string, TimeMs> pending_members_;      // KIP-394 ids handed out, by deadline
  std::map<TopicPartition, CommittedOffset> offsets_;

  // PreparingRebalance: when the join completes at the latest. While the
  // initial delay (group.initial.rebalance.delay.ms) runs, the join does not
  // complete early; each delay that saw a new member is followed by another,
  // up to the rebalance timeout (Kafka's InitialDelayedJoin).
  TimeMs join_deadline_{0};
  TimeMs join_hard_deadline_{0};
  bool initial_delay_active_ = false;
  bool new_member_added_ = false;
  // CompletingRebalance: the leader's SyncGroup is due by then.
  std::optional<TimeMs> sync_deadline_;

  std::vector<Reply> replies_;
  bool metadata_dirty_ = false;
  uint64_t rebalances_ = 0;
};

}  // namespace dmq::group
