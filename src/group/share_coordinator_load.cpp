// Leadership of __share_group_state partitions and loading them, as the
// group coordinator does for __consumer_offsets (coordinator.cpp): a marker
// written with acks=-1 first, so that the high watermark covers every
// snapshot an earlier leader acknowledged, then everything up to it is read.
#include <algorithm>

#include "common/batch_layout.h"
#include "common/log.h"
#include "common/metrics.h"
#include "group/coordinator_internal.h"
#include "group/internal_topic.h"
#include "group/records.h"
#include "group/share_coordinator_internal.h"

namespace dmq::group {

void apply_share_batches(std::string_view bytes, ShareLoadState& op) {
  size_t pos = 0;
  int64_t next = op.next;
  while (bytes.size() - pos >= batch_layout::kHeaderSize) {
    kafka::BatchHeader h;
    if (kafka::read_batch_header(bytes.substr(pos), h) != kafka::BatchError::kOk) break;
    if (h.batch_length <= 0) break;
    const size_t total = h.total_size();
    if (total > bytes.size() - pos) break;
    std::string payload;
    if (!h.is_control() && h.last_offset() >= op.next &&
        kafka::decompress_records(bytes.substr(pos, total), payload) == kafka::BatchError::kOk) {
      kafka::RecordIterator it(payload, h.record_count);
      kafka::Record rec;
      while (it.next(rec)) {
        const int64_t offset = h.base_offset + rec.offset_delta;
        if (offset < op.next || offset >= op.end) continue;
        auto decoded = decode_share_record(rec.key, rec.value);
        if (!decoded) {
          op.skipped++;
          continue;
        }
        op.state[decoded->group_id][decoded->tp] = std::move(decoded->snapshot);
        op.records++;
      }
    }
    next = std::max(next, h.last_offset() + 1);
    pos += total;
  }
  op.next = next;
}

void ShareCoordinator::handle_metadata_change(const cluster::MetadataImage& image) {
  const auto led = led_partitions(image, kShareStateTopic, backend_.node_id().value);
  std::vector<int32_t> lost;
  for (const auto& [p, slot] : slots_) {
    auto it = led.find(p);
    if (it == led.end() || it->second != slot.leader_epoch) lost.push_back(p);
  }
  for (int32_t p : lost) unload(p);
  for (const auto& [p, epoch] : led)
    if (!slots_.count(p)) begin_load(p, epoch);
}

void ShareCoordinator::begin_load(int32_t partition, int32_t leader_epoch) {
  Slot slot;
  slot.leader_epoch = leader_epoch;
  slot.load_id = next_load_id_++;
  slots_[partition] = slot;
  LOG_INFO("share") << "loading " << kShareStateTopic << "-" << partition << " (leader epoch "
                    << leader_epoch << ")";
  write_load_marker(partition, slot.load_id);
}

void ShareCoordinator::retry_later(std::function<void()> fn, std::chrono::milliseconds delay) {
  run_after(io_, delay, alive_, std::move(fn));
}

// The marker is a tombstone for the empty group, which no reader applies.
void ShareCoordinator::write_load_marker(int32_t partition, uint64_t load_id) {
  if (!slot_current(partition, load_id)) return;
  append_load_marker(
      backend_, kShareStateTopic, partition, encode_share_key("", {"", 0}), now_ms(), alive_,
      [this, partition, load_id](int64_t start, int64_t end) {
        if (!slot_current(partition, load_id)) return;
        auto op = std::make_shared<LoadOp>();
        op->next = start;
        op->end = end;
        load_step(partition, load_id, op);
      },
      [this, partition, load_id] {
        // The replica may not have taken the leadership yet.
        retry_later([this, partition, load_id] { write_load_marker(partition, load_id); },
                    std::chrono::milliseconds(100));
      });
}

void ShareCoordinator::load_step(int32_t partition, uint64_t load_id, std::shared_ptr<LoadOp> op) {
  if (!slot_current(partition, load_id)) return;
  if (op->next >= op->end) return finish_load(partition, *op);
  auto again = [this, partition, load_id, op] { load_step(partition, load_id, op); };
  continue_load(io_,
                load_chunk(backend_, kShareStateTopic, partition, op->next,
                           [&](const std::string& bytes) { apply_share_batches(bytes, *op); }),
                alive_, std::move(again));
}

void ShareCoordinator::finish_load(int32_t partition, LoadOp& op) {
  size_t groups = 0;
  std::vector<std::pair<std::string, TopicPartition>> pending;
  for (auto& [group_id, partitions] : op.state) {
    if (group_id.empty()) continue;
    // A deleted group: every share-partition of it tombstoned.
    if (std::none_of(partitions.begin(), partitions.end(),
                     [](const auto& p) { return p.second.has_value(); }))
      continue;
    GroupEntry& group = group_entry(group_id, partition);
    groups++;
    for (auto& [tp, snapshot] : partitions) {
      if (!snapshot) continue;
      PartitionEntry& entry = partition_entry(group, tp);
      auto* rng = &rng_;
      entry.sp = std::make_unique<SharePartition>(SharePartition::restore(
          entry.sp->config(),
          [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); },
          std::move(*snapshot)));
      // Lock holders keep their locks: they may still acknowledge.
      for (const auto& [offset, r] : entry.sp->snapshot().records)
        if (r.state == RecordState::kAcquired) group.members.emplace(r.member_id, now_ms());
      if (!entry.sp->dead_letters_pending().empty()) pending.push_back({group_id, tp});
    }
  }
  slots_[partition].status = SlotStatus::kActive;
  loads_total_->inc();
  LOG_INFO("share") << "loaded " << kShareStateTopic << "-" << partition << ": " << groups
                    << " share groups from " << op.records << " records (" << op.skipped
                    << " unreadable), " << pending.size() << " with dead letters to finish";
  // Intents an earlier coordinator persisted but may not have finished.
  for (const auto& [group_id, tp] : pending) maybe_dead_letter(group_id, tp);
}

void ShareCoordinator::unload(int32_t partition) {
  WriteQueue::Batch waiting;
  if (auto it = slots_.find(partition); it != slots_.end())
    waiting = it->second.writes.take_pending();
  slots_.erase(partition);
  std::erase_if(groups_,
                [partition](const auto& g) { return g.second.state_partition == partition; });
  // Their changes were never written; the write in flight answers its own.
  for (const auto& done : waiting.waiters) done(ShareError::kNotCoordinator);
  // Fetches of those groups learn it at their next step (slot_current).
  LOG_INFO("share") << "no longer coordinating " << kShareStateTopic << "-" << partition;
}

}  // namespace dmq::group
