// Loading a __transaction_state partition when this broker becomes its
// leader (the group coordinator's machinery: a marker first, then chunks).
#include "common/log.h"
#include "group/internal_topic.h"
#include "kafka/protocol/record_batch.h"
#include "txn/coordinator.h"

namespace dmq::txn {

namespace {

using Seen = std::map<std::string, std::optional<TxnMetadata>>;

// Applies the records of whole batches at or above `next` and below `end`;
// moves `next` past the last whole batch.
void apply_batches(std::string_view bytes, int64_t& next, int64_t end, Seen& seen) {
  size_t pos = 0;
  int64_t moved = next;
  while (bytes.size() - pos >= batch_layout::kHeaderSize) {
    kafka::BatchHeader h;
    if (kafka::read_batch_header(bytes.substr(pos), h) != kafka::BatchError::kOk) break;
    if (h.batch_length <= 0 || h.total_size() > bytes.size() - pos) break;
    std::string payload;
    if (!h.is_control() && h.last_offset() >= next &&
        kafka::decompress_records(bytes.substr(pos, h.total_size()), payload) ==
            kafka::BatchError::kOk) {
      kafka::RecordIterator it(payload, h.record_count);
      kafka::Record rec;
      while (it.next(rec)) {
        const int64_t offset = h.base_offset + rec.offset_delta;
        if (offset < next || offset >= end || !rec.key) continue;
        auto id = decode_key(*rec.key);
        if (!id || id->empty()) continue;  // the load marker, or not ours
        if (!rec.value) {
          seen[*id] = std::nullopt;
        } else if (auto meta = decode_value(*rec.value)) {
          seen[*id] = *meta;
        }
      }
    }
    moved = std::max(moved, h.last_offset() + 1);
    pos += h.total_size();
  }
  next = moved;
}

}  // namespace

void Coordinator::handle_metadata_change(const cluster::MetadataImage& image) {
  const auto led = group::led_partitions(image, kTransactionStateTopic, backend_.node_id().value);
  std::vector<int32_t> lost;
  for (const auto& [p, slot] : slots_) {
    auto it = led.find(p);
    if (it == led.end() || it->second != slot.leader_epoch) lost.push_back(p);
  }
  for (int32_t p : lost) {
    slots_.erase(p);
    std::erase_if(txns_, [p](const auto& e) { return e.second.partition == p; });
    LOG_INFO("txn") << "no longer coordinating " << kTransactionStateTopic << "-" << p;
  }
  for (const auto& [p, epoch] : led) {
    if (!slots_.count(p)) begin_load(p, epoch);
  }
}

bool Coordinator::load_current(int32_t partition, uint64_t load_id) const {
  auto it = slots_.find(partition);
  return !stopped_ && it != slots_.end() && it->second.load_id == load_id && !it->second.loaded;
}

void Coordinator::begin_load(int32_t partition, int32_t leader_epoch) {
  Slot slot;
  slot.leader_epoch = leader_epoch;
  slot.load_id = next_load_id_++;
  slots_[partition] = slot;
  const uint64_t load_id = slot.load_id;
  LOG_INFO("txn") << "loading " << kTransactionStateTopic << "-" << partition;
  auto attempt = std::make_shared<std::function<void()>>();
  std::weak_ptr<std::function<void()>> weak = attempt;
  *attempt = [this, partition, load_id, weak] {
    if (!load_current(partition, load_id)) return;
    auto self = weak.lock();
    group::append_load_marker(
        backend_, kTransactionStateTopic, partition, encode_key(""), now_ms(), alive_,
        [this, partition, load_id, self](int64_t start, int64_t end) {
          if (!load_current(partition, load_id)) return;
          read_step(partition, load_id, std::make_shared<int64_t>(start), end,
                    std::make_shared<Seen>());
        },
        [this, self] {
          // The replica may not lead yet: try again shortly.
          group::run_after(io_, std::chrono::milliseconds(100), alive_, [self] { (*self)(); });
        });
  };
  (*attempt)();
}

void Coordinator::read_step(int32_t partition, uint64_t load_id, std::shared_ptr<int64_t> next,
                            int64_t end, std::shared_ptr<Seen> seen) {
  if (!load_current(partition, load_id)) return;
  if (*next >= end) return finish_load(partition, *seen);
  auto progress =
      group::load_chunk(backend_, kTransactionStateTopic, partition, *next,
                        [&](const std::string& bytes) { apply_batches(bytes, *next, end, *seen); });
  group::continue_load(io_, progress, alive_, [this, partition, load_id, next, end, seen] {
    read_step(partition, load_id, next, end, seen);
  });
}

void Coordinator::finish_load(int32_t partition, const Seen& seen) {
  std::vector<std::string> resume;
  for (const auto& [id, meta] : seen) {
    if (!meta) continue;
    Entry entry;
    entry.meta = *meta;
    entry.partition = partition;
    txns_[id] = entry;
    if (meta->state == TxnState::kPrepareCommit || meta->state == TxnState::kPrepareAbort) {
      resume.push_back(id);
    }
  }
  slots_[partition].loaded = true;
  LOG_INFO("txn") << "loaded " << kTransactionStateTopic << "-" << partition << ": " << seen.size()
                  << " transactional ids, " << resume.size() << " with markers to write";
  // A decision the previous coordinator made but did not finish.
  for (const auto& id : resume) write_markers(id);
}

}  // namespace dmq::txn
