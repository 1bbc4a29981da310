#pragma once
// The metadata state machine: applies committed RecordBatches to the image.
// The same code runs on controllers and on brokers tailing the log, so apply
// is deterministic: it depends only on the image, the batch and the Raft index
// (no clock, no randomness, ordered containers only).
//
// Validity: every record is checked against the image at apply time. A batch
// with an invalid record (a topic that already exists because two creates
// raced, a partition change computed from an old partition epoch, ...) is
// applied as a no-op as a whole, with the reason logged and returned; the
// applied index still moves. Since the check is deterministic, every node
// skips the same batches. Invalid input never crashes.
//
// Threading: not thread-safe; one owner (the node's metadata loop) applies and
// reads. Copy the image (or a snapshot) to hand it to other threads.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/error.h"
#include "cluster/metadata_image.h"
#include "cluster/records.h"

namespace dmq::cluster {

// Keys of the image touched since the last take_changes(); MetadataStore
// rewrites exactly these table rows (a key absent from the image is deleted).
struct ImageChanges {
  std::set<BrokerId> brokers;
  std::set<std::string> topics;
  bool globals = false;
  bool empty() const { return brokers.empty() && topics.empty() && !globals; }
};

class MetadataState {
 public:
  MetadataState() = default;
  MetadataState(MetadataImage image, LogIndex applied_index);

  // Applies one committed entry at Raft index `index`.
  // Requires index > applied_index() (a Raft guarantee; a violation is a bug).
  // Returns the reason when the batch was rejected and applied as a no-op.
  Status apply(const RecordBatch& batch, LogIndex index);
  // Decodes and applies an entry payload. Empty bytes (a Raft leader's own
  // no-op) apply as a no-op; undecodable bytes are a rejected no-op.
  Status apply_bytes(std::string_view payload, LogIndex index);

  const MetadataImage& image() const { return image_; }
  LogIndex applied_index() const { return applied_index_; }

  const BrokerRegistration* find_broker(BrokerId id) const;
  const TopicState* find_topic(std::string_view name) const;
  const TopicState* find_topic_by_id(std::string_view topic_id) const;
  const PartitionState* find_partition(std::string_view topic, PartitionId partition) const;
  // Registered and unfenced, ascending.
  std::vector<BrokerId> unfenced_brokers() const;
  bool is_unfenced(BrokerId id) const;

  // Checks the image's invariants (for tests and simulators, after every
  // apply): ISR non-empty, duplicate-free and within the replicas; leader
  // kNoLeader or an unfenced member of the ISR; partition ids dense; the topic
  // id index consistent. Returns the first violation.
  Status check_invariants() const;

  // The whole image and applied index as bytes (a Raft snapshot).
  std::string snapshot() const;
  // kCorruptStore for malformed bytes or an image that breaks the invariants.
  static Result<MetadataState> from_snapshot(std::string_view bytes);

  ImageChanges take_changes();

 private:
  Status apply_record(const Record& record, LogIndex index);
  Status handle(const NoOpRecord&, LogIndex) { return {}; }
  Status handle(const RegisterBrokerRecord& r, LogIndex index);
  Status handle(const FenceBrokerRecord& r, LogIndex index);
  Status handle(const UnfenceBrokerRecord& r, LogIndex index);
  Status handle(const UnregisterBrokerRecord& r, LogIndex index);
  Status handle(const CreateTopicRecord& r, LogIndex index);
  Status handle(const DeleteTopicRecord& r, LogIndex index);
  Status handle(const CreatePartitionsRecord& r, LogIndex index);
  Status handle(const PartitionChangeRecord& r, LogIndex index);
  Status handle(const AllocateProducerIdsRecord& r, LogIndex index);
  Status handle(const ConfigChangeRecord& r, LogIndex index);
  Status handle(const UserScramCredentialRecord& r, LogIndex index);
  Status handle(const AclRecord& r, LogIndex index);
  Status handle(const ClientQuotaRecord& r, LogIndex index);

  Status check_broker_epoch(BrokerId id, BrokerEpoch epoch) const;
  Status check_new_partitions(const std::vector<PartitionAssignment>& parts, size_t existing) const;
  PartitionState initial_partition(PartitionId id, const std::vector<BrokerId>& replicas) const;
  // The invariant a fencing batch must leave behind: no fenced broker leads.
  Status check_no_fenced_leader() const;
  // A PartitionChange's new replica list (KIP-455) against the partition.
  Status check_reassignment(const PartitionChangeRecord& r, const PartitionState& p) const;
  void rebuild_index();

  MetadataImage image_;
  LogIndex applied_index_{0};
  std::map<std::string, std::string, std::less<>> topic_names_by_id_;
  ImageChanges changes_;
};

}  // namespace dmq::cluster
