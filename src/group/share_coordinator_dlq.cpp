// Dead letters. A record that failed (REJECT, or its delivery limit reached)
// is DEAD_LETTERING in a persisted snapshot before anything is written: that
// is the intent, with the producer sequence its write will carry. Writes go
// out one at a time per share-partition, in sequence order, as idempotent
// batches of the share-partition's own producer id (persisted before its
// first use), so a write repeated after a failover is a duplicate to the
// dead-letter partition's producer state and lands once. Only after the
// write is acknowledged does the record become ARCHIVED.
#include "common/log.h"
#include "common/metrics.h"
#include "group/share_coordinator_internal.h"

namespace dmq::group {
namespace {

constexpr auto kDeadLetterRetry = std::chrono::milliseconds(500);

}  // namespace

std::optional<TopicPartition> ShareCoordinator::dead_letter_partition(
    const PartitionEntry& entry, const TopicPartition& source) {
  auto image = backend_.metadata();
  auto t = image->topics.find(entry.dead_letter_topic);
  if (t == image->topics.end() || t->second.partitions.empty()) {
    // Created on first use, like an auto-created topic; the retry finds it.
    broker::TopicSpec spec;
    spec.name = entry.dead_letter_topic;
    controller_.create_topic(spec, false, [](const broker::AdminResult&) {});
    return std::nullopt;
  }
  // A fixed partition per source partition: the sequence numbers of one
  // producer id must all go to one partition.
  const auto n = static_cast<int32_t>(t->second.partitions.size());
  return TopicPartition{entry.dead_letter_topic, source.partition % n};
}

void ShareCoordinator::maybe_dead_letter(const std::string& group_id, const TopicPartition& tp) {
  GroupEntry* group = find(group_id);
  if (!group) return;
  auto it = group->partitions.find(tp);
  if (it == group->partitions.end()) return;
  PartitionEntry& entry = it->second;
  if (entry.dead_letter_busy) return;
  auto pending = entry.sp->dead_letters_pending();
  if (pending.empty()) return;
  const uint64_t load_id = load_id_of(group->state_partition);
  entry.dead_letter_busy = true;
  if (entry.sp->snapshot().producer_id >= 0) {
    return dead_letter_write(group_id, tp, pending.front(), load_id);
  }
  // The producer id is persisted before the first write that uses it: a
  // write is never sent under an id a failover could forget.
  backend_.init_producer_id([this, group_id, tp, load_id](const broker::ProducerIdResult& r) {
    GroupEntry* group = find(group_id);
    if (!group || !slot_current(group->state_partition, load_id)) return;
    if (r.error != kafka::ErrorCode::kNone)
      return dead_letter_finished(group_id, tp, load_id, false);
    group->partitions[tp].sp->set_producer(r.producer_id.value, r.producer_epoch);
    persist(group_id, {tp}, [this, group_id, tp, load_id](ShareError e) {
      if (e != ShareError::kNone) return dead_letter_finished(group_id, tp, load_id, false);
      dead_letter_finished(group_id, tp, load_id, true);
    });
  });
}

void ShareCoordinator::dead_letter_write(const std::string& group_id, const TopicPartition& tp,
                                         int64_t offset, uint64_t load_id) {
  // The record's content is read again from its partition: an ack carries
  // only the offset, and after a failover nothing else has it.
  share_io_.read(tp, offset, kShareReadBytes, [this, group_id, tp, offset, load_id](ShareRead r) {
    GroupEntry* group = find(group_id);
    if (!group || !slot_current(group->state_partition, load_id)) return;
    if (r.error != kafka::ErrorCode::kNone && r.error != kafka::ErrorCode::kOffsetOutOfRange)
      return dead_letter_finished(group_id, tp, load_id, false);
    dead_letter_append(group_id, tp, offset, load_id, r);
  });
}

void ShareCoordinator::dead_letter_append(const std::string& group_id, const TopicPartition& tp,
                                          int64_t offset, uint64_t load_id, const ShareRead& read) {
  GroupEntry* group = find(group_id);
  PartitionEntry& entry = group->partitions[tp];
  const InFlightRecord* rec = entry.sp->find(offset);
  auto target = dead_letter_partition(entry, tp);
  if (!rec || rec->state != RecordState::kDeadLettering || !target)
    return dead_letter_finished(group_id, tp, load_id, false);
  const auto& s = entry.sp->snapshot();
  kafka::RecordBatchBuilder builder({.producer_id = s.producer_id,
                                     .producer_epoch = s.producer_epoch,
                                     .base_sequence = rec->dead_letter_sequence});
  std::optional<DecodedRecord> source;
  for (auto& d : decode_records(read.batches, offset, 1)) {
    if (d.offset == offset) source = std::move(d);
    break;
  }
  std::string partition = std::to_string(tp.partition), off = std::to_string(offset);
  std::string count = std::to_string(rec->delivery_count);
  std::string error = rec->last_error;
  if (!source)
    error += error.empty() ? "record no longer in the log" : "; record no longer in the log";
  std::vector<kafka::RecordHeader> headers{
      {"dmq.dlq.source.topic", tp.topic}, {"dmq.dlq.source.partition", partition},
      {"dmq.dlq.source.offset", off},     {"dmq.dlq.delivery.count", count},
      {"dmq.dlq.group", group_id},        {"dmq.dlq.error", error}};
  std::optional<std::string_view> key, value;
  if (source && source->key) key = *source->key;
  if (source && source->value) value = *source->value;
  builder.add(source ? source->timestamp_ms : now_ms(), key, value, headers);
  share_io_.append(*target, builder.build(), [this, group_id, tp, offset, load_id](ShareAppend a) {
    GroupEntry* group = find(group_id);
    if (!group || !slot_current(group->state_partition, load_id)) return;
    if (a.error != kafka::ErrorCode::kNone) {
      LOG_WARN("share") << "dead-letter write for " << group_id << " " << tp.topic << "-"
                        << tp.partition << "@" << offset
                        << " failed: " << kafka::error_name(a.error);
      return dead_letter_finished(group_id, tp, load_id, false);
    }
    group->partitions[tp].sp->dead_letter_done(offset);
    group->dead_lettered->inc();
    wake_fetches(group_id, 1);  // the window may have moved
    persist(group_id, {tp}, [this, group_id, tp, load_id](ShareError e) {
      dead_letter_finished(group_id, tp, load_id, e == ShareError::kNone);
    });
  });
}

void ShareCoordinator::dead_letter_finished(const std::string& group_id, const TopicPartition& tp,
                                            uint64_t load_id, bool ok) {
  GroupEntry* group = find(group_id);
  if (!group || !slot_current(group->state_partition, load_id)) return;
  auto it = group->partitions.find(tp);
  if (it == group->partitions.end()) return;
  it->second.dead_letter_busy = false;
  if (ok) return maybe_dead_letter(group_id, tp);
  retry_later([this, group_id, tp] { maybe_dead_letter(group_id, tp); }, kDeadLetterRetry);
}

}  // namespace dmq::group
