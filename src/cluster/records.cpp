#include "cluster/records.h"

#include "cluster/byte_codec.h"
#include "cluster/record_format.h"

namespace dmq::cluster {
namespace {

using format::RecordType;

void put_assignments(ByteWriter& w, const std::vector<PartitionAssignment>& parts) {
  w.u32(static_cast<uint32_t>(parts.size()));
  for (const auto& p : parts) put_broker_ids(w, p.replicas);
}

std::vector<PartitionAssignment> get_assignments(ByteReader& r) {
  uint32_t n = r.count(4);
  std::vector<PartitionAssignment> parts;
  parts.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) parts.push_back({get_broker_ids(r)});
  return parts;
}

struct Encoder {
  ByteWriter& w;
  void head(RecordType t, uint8_t version = format::kRecordVersion) {
    w.u8(static_cast<uint8_t>(t));
    w.u8(version);
  }
  void operator()(const NoOpRecord&) { head(RecordType::kNoOp); }
  void operator()(const RegisterBrokerRecord& r) {
    head(RecordType::kRegisterBroker,
         r.listeners.empty() ? format::kRecordVersion : format::kRegisterBrokerListenersVersion);
    w.i32(r.broker_id.value);
    w.str(r.incarnation_id);
    w.str(r.kafka_host);
    w.u16(r.kafka_port);
    w.str(r.http_host);
    w.u16(r.http_port);
    w.str(r.rack);
    if (!r.listeners.empty()) put_broker_listeners(w, r.listeners);
  }
  void broker_epoch(RecordType t, BrokerId id, BrokerEpoch epoch) {
    head(t);
    w.i32(id.value);
    w.i64(epoch.value);
  }
  void operator()(const FenceBrokerRecord& r) {
    broker_epoch(RecordType::kFenceBroker, r.broker_id, r.epoch);
  }
  void operator()(const UnfenceBrokerRecord& r) {
    broker_epoch(RecordType::kUnfenceBroker, r.broker_id, r.epoch);
  }
  void operator()(const UnregisterBrokerRecord& r) {
    broker_epoch(RecordType::kUnregisterBroker, r.broker_id, r.epoch);
  }
  void operator()(const CreateTopicRecord& r) {
    head(RecordType::kCreateTopic);
    w.str(r.name);
    w.str(r.topic_id);
    put_assignments(w, r.partitions);
    put_config_map(w, r.configs);
  }
  void operator()(const DeleteTopicRecord& r) {
    head(RecordType::kDeleteTopic);
    w.str(r.name);
    w.str(r.topic_id);
  }
  void operator()(const CreatePartitionsRecord& r) {
    head(RecordType::kCreatePartitions);
    w.str(r.name);
    w.str(r.topic_id);
    put_assignments(w, r.partitions);
  }
  void operator()(const PartitionChangeRecord& r) {
    head(RecordType::kPartitionChange,
         r.replicas ? format::kPartitionChangeReplicasVersion : format::kRecordVersion);
    w.str(r.topic);
    w.i32(r.partition.value);
    w.i32(r.expected_partition_epoch.value);
    w.boolean(r.leader.has_value());
    if (r.leader) w.i32(r.leader->value);
    w.boolean(r.isr.has_value());
    if (r.isr) put_broker_ids(w, *r.isr);
    if (r.replicas) {
      put_broker_ids(w, *r.replicas);
      put_broker_ids(w, r.adding_replicas);
      put_broker_ids(w, r.removing_replicas);
    }
  }
  void operator()(const AllocateProducerIdsRecord& r) {
    head(RecordType::kAllocateProducerIds);
    w.i32(r.broker_id.value);
    w.i64(r.broker_epoch.value);
    w.i64(r.next_block_start.value);
  }
  void operator()(const ConfigChangeRecord& r) {
    head(RecordType::kConfigChange);
    w.u8(static_cast<uint8_t>(r.resource));
    w.str(r.resource_name);
    w.u32(static_cast<uint32_t>(r.changes.size()));
    for (const auto& [k, v] : r.changes) {
      w.str(k);
      w.boolean(v.has_value());
      if (v) w.str(*v);
    }
  }
  void operator()(const UserScramCredentialRecord& r) {
    head(RecordType::kUserScramCredential);
    w.str(r.user);
    w.str(r.mechanism);
    w.boolean(r.credential.has_value());
    if (r.credential) w.str(*r.credential);
  }
  void operator()(const AclRecord& r) {
    head(RecordType::kAcl);
    w.str(r.binding);
    w.boolean(r.remove);
  }
  void operator()(const ClientQuotaRecord& r) {
    head(RecordType::kClientQuota);
    put_quota_entity(w, r.entity);
    w.str(r.key);
    w.boolean(r.value.has_value());
    if (r.value) put_double(w, *r.value);
  }
};

RegisterBrokerRecord decode_register(ByteReader& r, uint8_t version) {
  RegisterBrokerRecord rec;
  rec.broker_id = BrokerId{r.i32()};
  rec.incarnation_id = r.str();
  rec.kafka_host = r.str();
  rec.kafka_port = r.u16();
  rec.http_host = r.str();
  rec.http_port = r.u16();
  rec.rack = r.str();
  if (version >= format::kRegisterBrokerListenersVersion) rec.listeners = get_broker_listeners(r);
  return rec;
}

PartitionChangeRecord decode_partition_change(ByteReader& r, uint8_t version) {
  PartitionChangeRecord rec;
  rec.topic = r.str();
  rec.partition = PartitionId{r.i32()};
  rec.expected_partition_epoch = PartitionEpoch{r.i32()};
  if (r.boolean()) rec.leader = BrokerId{r.i32()};
  if (r.boolean()) rec.isr = get_broker_ids(r);
  if (version >= format::kPartitionChangeReplicasVersion) {
    rec.replicas = get_broker_ids(r);
    rec.adding_replicas = get_broker_ids(r);
    rec.removing_replicas = get_broker_ids(r);
  }
  return rec;
}

ConfigChangeRecord decode_config_change(ByteReader& r) {
  ConfigChangeRecord rec;
  uint8_t resource = r.u8();
  if (resource != 1 && resource != 2) r.fail();
  rec.resource = static_cast<ConfigResource>(resource);
  rec.resource_name = r.str();
  uint32_t n = r.count(5);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string key = r.str();
    if (!rec.changes.empty() && key <= rec.changes.rbegin()->first) r.fail();
    std::optional<std::string> value;
    if (r.boolean()) value = r.str();
    rec.changes[std::move(key)] = std::move(value);
  }
  return rec;
}

template <typename T>
T decode_broker_epoch(ByteReader& r) {
  T rec;
  rec.broker_id = BrokerId{r.i32()};
  rec.epoch = BrokerEpoch{r.i64()};
  return rec;
}

// Returns nullopt for an unknown type; the reader's state reports short input.
std::optional<Record> decode_body(RecordType type, ByteReader& r, uint8_t version) {
  switch (type) {
    case RecordType::kNoOp:
      return NoOpRecord{};
    case RecordType::kRegisterBroker:
      return decode_register(r, version);
    case RecordType::kFenceBroker:
      return decode_broker_epoch<FenceBrokerRecord>(r);
    case RecordType::kUnfenceBroker:
      return decode_broker_epoch<UnfenceBrokerRecord>(r);
    case RecordType::kUnregisterBroker:
      return decode_broker_epoch<UnregisterBrokerRecord>(r);
    case RecordType::kCreateTopic: {
      CreateTopicRecord rec;
      rec.name = r.str();
      rec.topic_id = r.str();
      rec.partitions = get_assignments(r);
      rec.configs = get_config_map(r);
      return rec;
    }
    case RecordType::kDeleteTopic: {
      DeleteTopicRecord rec;
      rec.name = r.str();
      rec.topic_id = r.str();
      return rec;
    }
    case RecordType::kCreatePartitions: {
      CreatePartitionsRecord rec;
      rec.name = r.str();
      rec.topic_id = r.str();
      rec.partitions = get_assignments(r);
      return rec;
    }
    case RecordType::kPartitionChange:
      return decode_partition_change(r, version);
    case RecordType::kAllocateProducerIds: {
      AllocateProducerIdsRecord rec;
      rec.broker_id = BrokerId{r.i32()};
      rec.broker_epoch = BrokerEpoch{r.i64()};
      rec.next_block_start = ProducerId{r.i64()};
      return rec;
    }
    case RecordType::kConfigChange:
      return decode_config_change(r);
    case RecordType::kUserScramCredential: {
      UserScramCredentialRecord rec;
      rec.user = r.str();
      rec.mechanism = r.str();
      if (r.boolean()) rec.credential = r.str();
      return rec;
    }
    case RecordType::kAcl: {
      AclRecord rec;
      rec.binding = r.str();
      rec.remove = r.boolean();
      return rec;
    }
    case RecordType::kClientQuota: {
      ClientQuotaRecord rec;
      rec.entity = get_quota_entity(r);
      rec.key = r.str();
      if (r.boolean()) rec.value = get_double(r);
      return rec;
    }
  }
  return std::nullopt;
}

Error malformed(std::string what) {
  return Error{ErrorCode::kMalformedRecord, std::move(what)};
}

}  // namespace

std::string_view record_name(const Record& record) {
  static constexpr std::string_view kNames[] = {"NoOp",
                                                "RegisterBroker",
                                                "FenceBroker",
                                                "UnfenceBroker",
                                                "UnregisterBroker",
                                                "CreateTopic",
                                                "DeleteTopic",
                                                "CreatePartitions",
                                                "PartitionChange",
                                                "AllocateProducerIds",
                                                "ConfigChange",
                                                "UserScramCredential",
                                                "Acl",
                                                "ClientQuota"};
  static_assert(std::size(kNames) == std::variant_size_v<Record>);
  return kNames[record.index()];
}

std::string encode_batch(const RecordBatch& batch) {
  DMQ_ASSERT(!batch.empty());
  ByteWriter w;
  w.u8(format::kBatchVersion);
  w.u32(static_cast<uint32_t>(batch.size()));
  Encoder encoder{w};
  for (const Record& record : batch) std::visit(encoder, record);
  return w.take();
}

Result<RecordBatch> decode_batch(std::string_view bytes) {
  ByteReader r(bytes);
  uint8_t version = r.u8();
  if (!r.ok()) return malformed("empty record batch");
  if (version != format::kBatchVersion) {
    return malformed("unsupported record batch version " + std::to_string(version));
  }
  uint32_t n = r.count(2);
  if (!r.ok() || n == 0) return malformed("bad record count in batch");
  RecordBatch batch;
  batch.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    auto type = static_cast<RecordType>(r.u8());
    uint8_t record_version = r.u8();
    if (!r.ok()) return malformed("truncated record header");
    const bool listeners_version = type == RecordType::kRegisterBroker &&
                                   record_version == format::kRegisterBrokerListenersVersion;
    const bool replicas_version = type == RecordType::kPartitionChange &&
                                  record_version == format::kPartitionChangeReplicasVersion;
    if (record_version != format::kRecordVersion && !listeners_version && !replicas_version) {
      return malformed("unsupported record version " + std::to_string(record_version));
    }
    std::optional<Record> record = decode_body(type, r, record_version);
    if (!record) return malformed("unknown record type " + std::to_string(int(type)));
    if (!r.ok()) return malformed("truncated or invalid " + std::string(record_name(*record)));
    batch.push_back(std::move(*record));
  }
  if (!r.done()) return malformed("trailing bytes after record batch");
  return batch;
}

}  // namespace dmq::cluster
