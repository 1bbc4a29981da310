// The partition side of transactions (KIP-98, with KIP-890 part 1's
// verification): transactional batches, COMMIT/ABORT markers, and reads up
// to the last stable offset for read_committed consumers.
#include "broker/clock.h"
#include "broker/partition_manager.h"
#include "common/log.h"
#include "kafka/protocol/record_batch.h"

namespace dmq::broker {

FetchRead PartitionManager::fetch_committed(std::string_view topic, PartitionId partition,
                                            Offset offset, uint32_t max_bytes,
                                            LeaderEpoch current_leader_epoch) {
  FetchRead out =
      read(topic, partition, offset, max_bytes, kConsumerReplicaId, current_leader_epoch, true);
  if (out.error != ErrorCode::kNone) return out;
  Partition* p = find(topic, partition.value);
  // Every aborted transaction that may have records in what was read: from
  // the fetch offset to the LSO (the read never passes it).
  for (const AbortedTxn& a : p->txns.aborted_between(offset.value, out.last_stable_offset.value)) {
    out.aborted.push_back({a.producer_id, a.first_offset});
  }
  return out;
}

ErrorCode PartitionManager::check_txn_batch(const Partition& p,
                                            const kafka::BatchHeader& header) const {
  if (header.producer_id < 0) return ErrorCode::kInvalidRecord;
  // A batch of an epoch older than this producer's last marker here belongs
  // to a transaction that already ended (a late retry, Jepsen's "aborted
  // read"/"torn transaction" path): it must not join the next one.
  if (header.producer_epoch < p.txns.marker_epoch(header.producer_id)) {
    return ErrorCode::kInvalidProducerEpoch;
  }
  if (const auto* entry = p.producers.find(header.producer_id);
      entry && header.producer_epoch < entry->epoch) {
    return ErrorCode::kInvalidProducerEpoch;
  }
  return ErrorCode::kNone;
}

void PartitionManager::produce_transactional(std::string_view topic, PartitionId partition,
                                             const ValidatedBatch& batch, Acks acks,
                                             std::string_view transactional_id,
                                             std::function<void(const ProduceResult&)> done) {
  admit_transactional(topic, partition, batch, acks, transactional_id, true, std::move(done));
}

void PartitionManager::append_txn_offsets(std::string_view topic, PartitionId partition,
                                          const ValidatedBatch& batch,
                                          std::string_view transactional_id,
                                          std::function<void(const ProduceResult&)> done) {
  admit_transactional(topic, partition, batch, Acks::kAll, transactional_id, false,
                      std::move(done));
}

void PartitionManager::admit_transactional(std::string_view topic, PartitionId partition,
                                           const ValidatedBatch& batch, Acks acks,
                                           std::string_view transactional_id, bool sequenced,
                                           std::function<void(const ProduceResult&)> done) {
  Partition* p = find(topic, partition.value);
  if (!p || !p->is_leader || !p->log) {
    done({ErrorCode::kNotLeaderOrFollower});
    return;
  }
  if (!batch.header.is_transactional()) {
    // A transactional producer's Produce carries transactional batches only.
    done({ErrorCode::kInvalidRecord});
    return;
  }
  if (ErrorCode e = check_txn_batch(*p, batch.header); e != ErrorCode::kNone) {
    done({e});
    return;
  }
  if (p->txns.is_open(batch.header.producer_id)) {
    append_admitted(*p, batch, acks, std::move(done), sequenced);
    return;
  }
  if (!txn_verifier_) {
    done({ErrorCode::kTransactionalIdAuthorizationFailed});
    return;
  }
  // KIP-890 part 1: the first batch of a transaction on this partition is
  // taken only once the coordinator confirms the partition is part of the
  // producer's ongoing transaction. A batch delayed past its transaction's
  // end (or sent by a fenced producer) is refused instead of opening a
  // transaction nobody will ever end (Jepsen's "lost write"/"hanging" case).
  TxnVerification v{std::string(transactional_id), batch.header.producer_id,
                    batch.header.producer_epoch, TopicPartition{std::string(topic), partition}};
  const Stamp asked = p->stamp();
  txn_verifier_(v, [this, topic = std::string(topic), partition, batch, acks, asked, sequenced,
                    done = std::move(done)](ErrorCode e) mutable {
    Partition* q = find(topic, partition.value);
    if (!q || !q->is_leader || !q->log || !(q->stamp() == asked)) {
      done({ErrorCode::kNotLeaderOrFollower});
      return;
    }
    if (e == ErrorCode::kNone) e = check_txn_batch(*q, batch.header);
    if (e != ErrorCode::kNone) {
      done({e});
      return;
    }
    append_admitted(*q, batch, acks, std::move(done), sequenced);
  });
}

void PartitionManager::write_txn_marker(std::string_view topic, PartitionId partition,
                                        int64_t producer_id, int16_t producer_epoch, bool commit,
                                        int32_t coordinator_epoch,
                                        std::function<void(ErrorCode)> done) {
  Partition* p = find(topic, partition.value);
  if (!p) {
    done(check_leader(topic, partition.value));
    return;
  }
  if (!p->is_leader || !p->log) {
    done(ErrorCode::kNotLeaderOrFollower);
    return;
  }
  // A marker of an older epoch than this producer's latest here comes from a
  // coordinator (or a retry) that the producer has moved past: applying it
  // would end the producer's next transaction.
  const auto* entry = p->producers.find(producer_id);
  if (producer_epoch < p->txns.marker_epoch(producer_id) ||
      (entry && producer_epoch < entry->epoch)) {
    done(ErrorCode::kInvalidProducerEpoch);
    return;
  }
  const int64_t now = wall_ms();
  std::string bytes = build_control_batch(producer_id, producer_epoch,
                                          commit ? ControlType::kCommit : ControlType::kAbort,
                                          coordinator_epoch, now);
  kafka::BatchHeader header;
  kafka::read_batch_header(bytes, header);  // built just above
  stamp_batch(*p, std::span<char>(bytes.data(), bytes.size()), header, now);
  auto appended = append_to_log(*p, std::span<char>(bytes.data(), bytes.size()), header, now);
  if (!appended.ok()) {
    done(ErrorCode::kKafkaStorageError);
    return;
  }
  const store::AppendInfo info = appended.value();
  p->txns.on_marker(producer_id, producer_epoch,
                    commit ? ControlType::kCommit : ControlType::kAbort, info.base_offset.value);
  await_acknowledgement(*p, info, -1, Acks::kAll, false,
                        [done = std::move(done)](const ProduceResult& r) { done(r.error); });
}

}  // namespace dmq::broker
