// What an operator asks about this broker's replicas: their sizes and lag
// (DescribeLogDirs, GET /v1/log-dirs, the sizes in GET /v1/topics/{name}) and
// the producers a leader tracks (DescribeProducers). Read-only views of the
// partitions, on the event loop.
#include <sys/statvfs.h>

#include <filesystem>

#include "broker/partition_manager.h"

namespace dmq::broker {

HostedReplica PartitionManager::describe_replica(const Partition& p) {
  HostedReplica r;
  r.partition = {p.topic, PartitionId(p.index)};
  r.leader = p.is_leader;
  r.high_watermark = p.high_watermark;
  if (!p.log) return r;
  r.size_bytes = p.log->size_bytes();
  r.log_start_offset = p.log->log_start_offset();
  r.log_end_offset = p.log->log_end_offset();
  // Kafka's ReplicaManager.getLogEndOffsetLag: the leader's high watermark
  // never passes its own log end; a follower's copy of it (from its last
  // fetch) shows how far its log trails.
  if (!p.is_leader)
    r.offset_lag = std::max<int64_t>(0, p.high_watermark.value - r.log_end_offset.value);
  return r;
}

std::vector<HostedReplica> PartitionManager::hosted_replicas() const {
  std::vector<HostedReplica> out;
  for (const auto& [topic, parts] : partitions_) {
    for (const auto& [index, p] : parts) out.push_back(describe_replica(*p));
  }
  return out;
}

std::optional<HostedReplica> PartitionManager::hosted_replica(std::string_view topic,
                                                              PartitionId partition) const {
  const Partition* p = find(topic, partition.value);
  if (!p) return std::nullopt;
  return describe_replica(*p);
}

LogDirUsage PartitionManager::log_dir_usage() const {
  LogDirUsage out;
  std::error_code ec;
  auto abs = std::filesystem::absolute(logs_dir(), ec);
  out.path = ec ? logs_dir() : abs.lexically_normal().string();
  struct statvfs fs {};
  if (::statvfs(out.path.c_str(), &fs) != 0) {
    out.error = ErrorCode::kKafkaStorageError;
    return out;
  }
  out.total_bytes = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
  out.usable_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
  return out;
}

ProducersLookup PartitionManager::active_producers(std::string_view topic,
                                                   PartitionId partition) const {
  if (ErrorCode e = check_leader(topic, partition.value); e != ErrorCode::kNone) return {e, {}};
  const Partition& p = *find(topic, partition.value);
  ProducersLookup out;
  for (const auto& [id, entry] : p.producers.producers()) {
    const auto& last = entry.batches.back();  // never empty (producer_state.h)
    out.producers.push_back({.producer_id = id,
                             .producer_epoch = entry.epoch,
                             .last_sequence = last.last_sequence,
                             .last_timestamp = last.max_timestamp,
                             .coordinator_epoch = -1,
                             .current_txn_start_offset = p.txns.open_since(id)});
  }
  return out;
}

}  // namespace dmq::broker
