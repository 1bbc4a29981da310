#include "cluster/metadata_state.h"

#include <algorithm>

#include "cluster/byte_codec.h"
#include "cluster/image_codec.h"
#include "cluster/record_format.h"
#include "cluster/validation.h"
#include "common/log.h"

namespace dmq::cluster {
namespace {

Error invalid(std::string what) {
  return Error{ErrorCode::kInvalidRequest, std::move(what)};
}

bool contains(const std::vector<BrokerId>& ids, BrokerId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string describe(BrokerId id) {
  return "broker " + std::to_string(id.value);
}

}  // namespace

MetadataState::MetadataState(MetadataImage image, LogIndex applied_index)
    : image_(std::move(image)), applied_index_(applied_index) {
  rebuild_index();
}

void MetadataState::rebuild_index() {
  topic_names_by_id_.clear();
  for (const auto& [name, topic] : image_.topics) topic_names_by_id_[topic.topic_id] = name;
}

Status MetadataState::apply(const RecordBatch& batch, LogIndex index) {
  DMQ_ASSERT(index > applied_index_);
  applied_index_ = index;
  if (batch.empty()) return {};
  bool fences = false;
  for (const Record& r : batch) {
    fences |= std::holds_alternative<FenceBrokerRecord>(r) ||
              std::holds_alternative<RegisterBrokerRecord>(r);
  }
  // A single record validates before it mutates, so it needs no undo. A
  // multi-record batch is applied to a copy and kept only if all of it is
  // valid, so a batch is all-or-nothing.
  if (batch.size() == 1 && !fences) {
    Status s = apply_record(batch.front(), index);
    if (!s) {
      LOG_WARN("cluster") << "index " << index << ": skipped " << record_name(batch.front()) << ": "
                          << s.error().message;
    }
    return s;
  }
  MetadataImage before = image_;
  Status s;
  for (const Record& r : batch) {
    s = apply_record(r, index);
    if (!s) {
      s = Error{s.error().code, std::string(record_name(r)) + ": " + s.error().message};
      break;
    }
  }
  if (s && fences) s = check_no_fenced_leader();
  if (!s) {
    LOG_WARN("cluster") << "index " << index << ": skipped batch of " << batch.size()
                        << " records: " << s.error().message;
    image_ = std::move(before);
    rebuild_index();
  }
  return s;
}

Status MetadataState::apply_bytes(std::string_view payload, LogIndex index) {
  if (payload.empty()) return apply(RecordBatch{}, index);
  Result<RecordBatch> batch = decode_batch(payload);
  if (!batch) {
    DMQ_ASSERT(index > applied_index_);
    applied_index_ = index;
    LOG_WARN("cluster") << "index " << index
                        << ": skipped undecodable entry: " << batch.error().message;
    return batch.error();
  }
  return apply(batch.value(), index);
}

Status MetadataState::apply_record(const Record& record, LogIndex index) {
  return std::visit([&](const auto& r) { return handle(r, index); }, record);
}

Status MetadataState::check_broker_epoch(BrokerId id, BrokerEpoch epoch) const {
  const BrokerRegistration* b = find_broker(id);
  if (!b) return Error{ErrorCode::kUnknownBroker, describe(id) + " is not registered"};
  if (b->epoch != epoch) {
    return Error{ErrorCode::kStaleBrokerEpoch,
                 describe(id) + " epoch " + std::to_string(epoch.value) +
                     " is not the current epoch " + std::to_string(b->epoch.value)};
  }
  return {};
}

Status MetadataState::handle(const RegisterBrokerRecord& r, LogIndex index) {
  if (r.broker_id.value < 0) return invalid("negative broker id");
  if (r.incarnation_id.empty()) return invalid("empty incarnation id");
  // The controller fences a live registration (moving its leaderships) in the
  // same batch before replacing it; replacing an unfenced one would leave
  // partitions led by an epoch nobody holds.
  if (const BrokerRegistration* old = find_broker(r.broker_id); old && !old->fenced) {
    return Error{ErrorCode::kDuplicateBrokerId,
                 describe(r.broker_id) + " is registered and unfenced"};
  }
  BrokerRegistration b;
  b.id = r.broker_id;
  b.incarnation_id = r.incarnation_id;
  b.kafka_host = r.kafka_host;
  b.kafka_port = r.kafka_port;
  b.http_host = r.http_host;
  b.http_port = r.http_port;
  b.rack = r.rack;
  b.listeners = r.listeners;
  b.epoch = BrokerEpoch{static_cast<int64_t>(index.value)};
  b.fenced = true;  // KIP-631: a new registration is fenced until it heartbeats
  image_.brokers[b.id] = std::move(b);
  changes_.brokers.insert(r.broker_id);
  return {};
}

Status MetadataState::handle(const FenceBrokerRecord& r, LogIndex) {
  if (Status s = check_broker_epoch(r.broker_id, r.epoch); !s) return s;
  image_.brokers[r.broker_id].fenced = true;
  changes_.brokers.insert(r.broker_id);
  return {};
}

Status MetadataState::handle(const UnfenceBrokerRecord& r, LogIndex) {
  if (Status s = check_broker_epoch(r.broker_id, r.epoch); !s) return s;
  image_.brokers[r.broker_id].fenced = false;
  changes_.brokers.insert(r.broker_id);
  return {};
}

Status MetadataState::handle(const UnregisterBrokerRecord& r, LogIndex) {
  if (Status s = check_broker_epoch(r.broker_id, r.epoch); !s) return s;
  if (!image_.brokers[r.broker_id].fenced) {
    return invalid(describe(r.broker_id) + " must be fenced before it is unregistered");
  }
  image_.brokers.erase(r.broker_id);
  changes_.brokers.insert(r.broker_id);
  return {};
}

Status MetadataState::check_new_partitions(const std::vector<PartitionAssignment>& parts,
                                           size_t existing) const {
  if (parts.empty()) return Error{ErrorCode::kInvalidPartitions, "no partitions"};
  if (Status s = validate_partition_count(static_cast<int64_t>(existing + parts.size())); !s) {
    return s;
  }
  for (const PartitionAssignment& p : parts) {
    if (Status s = validate_replica_list(p.replicas); !s) return s;
  }
  return {};
}

PartitionState MetadataState::initial_partition(PartitionId id,
                                                const std::vector<BrokerId>& replicas) const {
  PartitionState p;
  p.id = id;
  p.replicas = replicas;
  for (BrokerId b : replicas) {
    if (is_unfenced(b)) p.isr.push_back(b);
  }
  if (p.isr.empty()) {
    // Every replica of a new partition is an empty log, so all are in sync;
    // the partition waits offline for one of them to come back.
    p.isr = replicas;
    p.leader = kNoLeader;
  } else {
    p.leader = p.isr.front();
  }
  return p;
}

Status MetadataState::handle(const CreateTopicRecord& r, LogIndex) {
  if (Status s = validate_topic_name(r.name); !s) return s;
  if (image_.topics.count(r.name)) {
    return Error{ErrorCode::kTopicExists, "topic '" + r.name + "' already exists"};
  }
  if (r.topic_id.empty() || topic_names_by_id_.count(r.topic_id)) {
    return invalid("topic id '" + r.topic_id + "' is empty or in use");
  }
  if (Status s = check_new_partitions(r.partitions, 0); !s) return s;
  for (const auto& [key, value] : r.configs) {
    if (key.empty()) return Error{ErrorCode::kInvalidConfig, "empty config key"};
  }
  TopicState t;
  t.name = r.name;
  t.topic_id = r.topic_id;
  t.configs = r.configs;
  for (size_t i = 0; i < r.partitions.size(); ++i) {
    t.partitions.push_back(
        initial_partition(PartitionId{static_cast<int32_t>(i)}, r.partitions[i].replicas));
  }
  topic_names_by_id_[r.topic_id] = r.name;
  image_.topics[r.name] = std::move(t);
  changes_.topics.insert(r.name);
  return {};
}

Status MetadataState::handle(const DeleteTopicRecord& r, LogIndex) {
  auto it = image_.topics.find(r.name);
  if (it == image_.topics.end() || it->second.topic_id != r.topic_id) {
    return Error{ErrorCode::kUnknownTopic, "no topic '" + r.name + "' with id " + r.topic_id};
  }
  topic_names_by_id_.erase(r.topic_id);
  image_.topics.erase(it);
  changes_.topics.insert(r.name);
  return {};
}

Status MetadataState::handle(const CreatePartitionsRecord& r, LogIndex) {
  auto it = image_.topics.find(r.name);
  if (it == image_.topics.end() || it->second.topic_id != r.topic_id) {
    return Error{ErrorCode::kUnknownTopic, "no topic '" + r.name + "' with id " + r.topic_id};
  }
  TopicState& t = it->second;
  if (Status s = check_new_partitions(r.partitions, t.partitions.size()); !s) return s;
  for (const PartitionAssignment& p : r.partitions) {
    auto id = PartitionId{static_cast<int32_t>(t.partitions.size())};
    t.partitions.push_back(initial_partition(id, p.replicas));
  }
  changes_.topics.insert(r.name);
  return {};
}

Status MetadataState::handle(const PartitionChangeRecord& r, LogIndex) {
  auto it = image_.topics.find(r.topic);
  if (it == image_.topics.end()) return Error{ErrorCode::kUnknownTopic, "no topic " + r.topic};
  TopicState& t = it->second;
  if (r.partition.value < 0 || static_cast<size_t>(r.partition.value) >= t.partitions.size()) {
    return Error{ErrorCode::kUnknownPartition, "no partition " + std::to_string(r.partition.value)};
  }
  PartitionState& p = t.partitions[r.partition.value];
  if (p.partition_epoch != r.expected_partition_epoch) {
    return Error{ErrorCode::kStalePartitionEpoch,
                 "partition epoch is " + std::to_string(p.partition_epoch.value) + ", expected " +
                     std::to_string(r.expected_partition_epoch.value)};
  }
  if (r.replicas) {
    if (Status s = check_reassignment(r, p); !s) return s;
  }
  const std::vector<BrokerId>& replicas = r.replicas ? *r.replicas : p.replicas;
  BrokerId leader = r.leader.value_or(p.leader);
  const std::vector<BrokerId>& isr = r.isr ? *r.isr : p.isr;
  if (r.isr || r.replicas) {
    if (Status s = validate_replica_list(isr); !s)
      return Error{ErrorCode::kInvalidIsr, "isr: " + s.error().message};
    for (BrokerId b : isr) {
      if (!contains(replicas, b))
        return Error{ErrorCode::kInvalidIsr, describe(b) + " is not a replica"};
      // KIP-841: only an unfenced broker joins the ISR. Checked again here
      // because the broker may have been fenced after the change was planned.
      if (!contains(p.isr, b) && !is_unfenced(b))
        return Error{ErrorCode::kInvalidIsr, describe(b) + " is fenced and cannot join the isr"};
    }
  }
  if (leader != kNoLeader) {
    if (!contains(isr, leader)) return Error{ErrorCode::kInvalidIsr, "leader is not in the isr"};
    if (r.leader && leader != p.leader && !is_unfenced(leader)) {
      return invalid("new leader " + describe(leader) + " is not an unfenced broker");
    }
  }
  if (leader != p.leader) p.leader_epoch = LeaderEpoch{p.leader_epoch.value + 1};
  p.leader = leader;
  p.isr = isr;
  if (r.replicas) {
    p.replicas = *r.replicas;
    p.adding_replicas = r.adding_replicas;
    p.removing_replicas = r.removing_replicas;
  }
  p.partition_epoch = PartitionEpoch{p.partition_epoch.value + 1};
  changes_.topics.insert(r.topic);
  return {};
}

Status MetadataState::check_reassignment(const PartitionChangeRecord& r,
                                         const PartitionState& p) const {
  const std::vector<BrokerId>& replicas = *r.replicas;
  if (Status s = validate_replica_list(replicas); !s) return s;
  for (BrokerId b : replicas) {
    // A replica already on the list may belong to a broker that has since
    // unregistered; a new one must be registered.
    if (!contains(p.replicas, b) && !find_broker(b)) {
      return Error{ErrorCode::kUnknownBroker, "replica " + describe(b) + " is not registered"};
    }
  }
  for (BrokerId b : r.adding_replicas) {
    if (!contains(replicas, b) || contains(r.removing_replicas, b)) {
      return invalid("adding replica " + describe(b) + " is not a kept replica");
    }
  }
  for (BrokerId b : r.removing_replicas) {
    if (!contains(replicas, b)) return invalid("removing replica " + describe(b) + " not listed");
  }
  if (r.removing_replicas.size() >= replicas.size()) {
    return invalid("a reassignment must keep at least one replica");
  }
  return {};
}

Status MetadataState::handle(const AllocateProducerIdsRecord& r, LogIndex) {
  if (Status s = check_broker_epoch(r.broker_id, r.broker_epoch); !s) return s;
  if (r.next_block_start != image_.next_producer_id) {
    return invalid("producer id block " + std::to_string(r.next_block_start.value) +
                   " is not the next block " + std::to_string(image_.next_producer_id.value));
  }
  image_.next_producer_id = ProducerId{r.next_block_start.value + kProducerIdBlockSize};
  changes_.globals = true;
  return {};
}

Status MetadataState::handle(const UserScramCredentialRecord& r, LogIndex) {
  if (r.user.empty()) return invalid("empty SCRAM user name");
  if (r.mechanism != "SCRAM-SHA-256" && r.mechanism != "SCRAM-SHA-512") {
    return invalid("unknown SCRAM mechanism " + r.mechanism);
  }
  // The credential text is checked where it is made (the controller) and
  // where it is used (the broker's store skips a malformed one): this pure
  // state machine does not link the crypto library.
  if (r.credential) {
    image_.scram_credentials[r.user][r.mechanism] = *r.credential;
  } else {
    auto it = image_.scram_credentials.find(r.user);
    if (it == image_.scram_credentials.end() || !it->second.erase(r.mechanism)) {
      return Error{ErrorCode::kUnknownUser, "no " + r.mechanism + " credential for that user"};
    }
    if (it->second.empty()) image_.scram_credentials.erase(it);
  }
  changes_.globals = true;
  return {};
}

Status MetadataState::handle(const AclRecord& r, LogIndex) {
  if (r.binding.empty()) return invalid("empty ACL binding");
  // Idempotent both ways (Kafka: creating an existing ACL or deleting a
  // missing one succeeds), so overlapping DeleteAcls filters may each remove it.
  bool changed = r.remove ? image_.acls.erase(r.binding) > 0 : image_.acls.insert(r.binding).second;
  if (changed) changes_.globals = true;
  return {};
}

Status MetadataState::handle(const ClientQuotaRecord& r, LogIndex) {
  if (auto why = quota::validate_entity(r.entity)) return invalid(*why);
  if (r.value) {
    if (auto why = quota::validate_quota(r.key, *r.value)) return invalid(*why);
    image_.client_quotas[r.entity][r.key] = *r.value;
  } else {
    if (!quota::kind_of_key(r.key)) return invalid("unknown quota key '" + r.key + "'");
    auto it = image_.client_quotas.find(r.entity);
    if (it == image_.client_quotas.end() || !it->second.erase(r.key)) return {};
    if (it->second.empty()) image_.client_quotas.erase(it);
  }
  changes_.globals = true;
  return {};
}

Status MetadataState::handle(const ConfigChangeRecord& r, LogIndex) {
  for (const auto& [key, value] : r.changes) {
    if (key.empty()) return Error{ErrorCode::kInvalidConfig, "empty config key"};
  }
  ConfigMap* configs = nullptr;
  if (r.resource == ConfigResource::kTopic) {
    auto it = image_.topics.find(r.resource_name);
    if (it == image_.topics.end()) {
      return Error{ErrorCode::kUnknownTopic, "no topic " + r.resource_name};
    }
    configs = &it->second.configs;
    changes_.topics.insert(r.resource_name);
  } else {
    const std::string& n = r.resource_name;
    bool numeric = !n.empty() && n.size() <= 9 &&
                   std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!n.empty() && !numeric) return invalid("broker config resource '" + n + "'");
    configs = &image_.broker_configs[n];
    changes_.globals = true;
  }
  for (const auto& [key, value] : r.changes) {
    if (value) {
      (*configs)[key] = *value;
    } else {
      configs->erase(key);
    }
  }
  if (r.resource == ConfigResource::kBroker && configs->empty()) {
    image_.broker_configs.erase(r.resource_name);
  }
  return {};
}

Status MetadataState::check_no_fenced_leader() const {
  for (const auto& [name, t] : image_.topics) {
    for (const PartitionState& p : t.partitions) {
      if (p.leader != kNoLeader && !is_unfenced(p.leader)) {
        return invalid("partition " + name + "-" + std::to_string(p.id.value) +
                       " would still be led by fenced " + describe(p.leader));
      }
    }
  }
  return {};
}

Status MetadataState::check_invariants() const {
  if (topic_names_by_id_.size() != image_.topics.size()) return invalid("topic id index size");
  for (const auto& [name, t] : image_.topics) {
    if (t.name != name || find_topic_by_id(t.topic_id) != &t) return invalid("topic index " + name);
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const PartitionState& p = t.partitions[i];
      std::string where = name + "-" + std::to_string(i) + ": ";
      if (p.id.value != static_cast<int32_t>(i)) return invalid(where + "partition id");
      if (Status s = validate_replica_list(p.replicas); !s) return invalid(where + "replicas");
      if (Status s = validate_replica_list(p.isr); !s) return invalid(where + "isr");
      for (BrokerId b : p.isr) {
        if (!contains(p.replicas, b)) return invalid(where + "isr member not a replica");
      }
      if (p.leader != kNoLeader && !contains(p.isr, p.leader)) {
        return invalid(where + "leader not in isr");
      }
      if (p.leader != kNoLeader && !is_unfenced(p.leader)) return invalid(where + "fenced leader");
      for (BrokerId b : p.adding_replicas) {
        if (!contains(p.replicas, b) || contains(p.removing_replicas, b)) {
          return invalid(where + "adding replica not a kept replica");
        }
      }
      for (BrokerId b : p.removing_replicas) {
        if (!contains(p.replicas, b)) return invalid(where + "removing replica not a replica");
      }
    }
  }
  for (const auto& [id, b] : image_.brokers) {
    if (b.id != id) return invalid("broker key mismatch");
  }
  return {};
}

const BrokerRegistration* MetadataState::find_broker(BrokerId id) const {
  auto it = image_.brokers.find(id);
  return it == image_.brokers.end() ? nullptr : &it->second;
}

const TopicState* MetadataState::find_topic(std::string_view name) const {
  auto it = image_.topics.find(name);
  return it == image_.topics.end() ? nullptr : &it->second;
}

const TopicState* MetadataState::find_topic_by_id(std::string_view topic_id) const {
  auto it = topic_names_by_id_.find(topic_id);
  return it == topic_names_by_id_.end() ? nullptr : find_topic(it->second);
}

const PartitionState* MetadataState::find_partition(std::string_view topic,
                                                    PartitionId partition) const {
  const TopicState* t = find_topic(topic);
  if (!t || partition.value < 0 || static_cast<size_t>(partition.value) >= t->partitions.size()) {
    return nullptr;
  }
  return &t->partitions[partition.value];
}

std::vector<BrokerId> MetadataState::unfenced_brokers() const {
  std::vector<BrokerId> out;
  for (const auto& [id, b] : image_.brokers) {
    if (!b.fenced) out.push_back(id);
  }
  return out;
}

bool MetadataState::is_unfenced(BrokerId id) const {
  const BrokerRegistration* b = find_broker(id);
  return b && !b->fenced;
}

std::string MetadataState::snapshot() const {
  ByteWriter w;
  w.u8(format::kSnapshotVersion);
  w.u64(applied_index_.value);
  w.str(encode_image(image_));
  return w.take();
}

Result<MetadataState> MetadataState::from_snapshot(std::string_view bytes) {
  ByteReader r(bytes);
  uint8_t version = r.u8();
  LogIndex index{r.u64()};
  std::string image_bytes = r.str(bytes.size());
  if (!r.done() || version != format::kSnapshotVersion) {
    return Error{ErrorCode::kCorruptStore, "snapshot: bad version or truncated"};
  }
  Result<MetadataImage> image = decode_image(image_bytes);
  if (!image) return image.error();
  MetadataState state(std::move(image).value(), index);
  // Bytes that decode can still describe an impossible image; refuse it rather
  // than build decisions on it.
  if (Status s = state.check_invariants(); !s) {
    return Error{ErrorCode::kCorruptStore, "snapshot: " + s.error().message};
  }
  return state;
}

ImageChanges MetadataState::take_changes() {
  ImageChanges out = std::move(changes_);
  changes_ = ImageChanges{};
  return out;
}

}  // namespace dmq::cluster
