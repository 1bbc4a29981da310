// Share fetch: a round reads every partition of the requested topics at the
// first offset worth delivering, acquires what the state machine allows,
// persists the new locks, and answers; with nothing to deliver it parks
// until something may be deliverable (new data past the high watermarks it
// read to, an ack or lock expiry in the group, a backoff's end) or wait_ms
// has passed.
#include <algorithm>

#include "common/batch_layout.h"
#include "common/log.h"
#include "group/records.h"
#include "group/share_coordinator_internal.h"

namespace dmq::group {
namespace {

// How much to read for `records` offsets: what the partition's batches took
// per offset so far, with a margin; the most until a read taught it. Reading
// a whole megabyte for a hundred small records cost more than the rest of
// the fetch (allocating, filling and copying it).
uint32_t read_bytes(double bytes_per_offset, size_t records) {
  if (bytes_per_offset <= 0) return kShareReadBytes;
  const double want = bytes_per_offset * static_cast<double>(records) * 1.25 + 1024;
  return static_cast<uint32_t>(std::clamp(want, static_cast<double>(kShareMinReadBytes),
                                          static_cast<double>(kShareReadBytes)));
}

void learn_batch_size(std::string_view batches, double* bytes_per_offset) {
  kafka::BatchHeader h;
  if (kafka::read_batch_header(batches, h) != kafka::BatchError::kOk) return;
  if (h.total_size() > batches.size() || h.last_offset_delta < 0) return;
  *bytes_per_offset = static_cast<double>(h.total_size()) / (h.last_offset_delta + 1.0);
}

}  // namespace

void ShareCoordinator::fetch(ShareFetchRequest request,
                             std::function<void(ShareFetchResult)> done) {
  int32_t partition = -1;
  if (ShareError e = check_group(request.group_id, &partition); e != ShareError::kNone)
    return done({e, share_error_name(e), request.member_id, {}});
  auto image = backend_.metadata();
  if (request.topics.empty())
    return done({ShareError::kInvalidRequest, "\"topics\" names no topic", request.member_id, {}});
  for (const auto& t : request.topics) {
    if (!image->topics.count(t) || t == kShareStateTopic || t == kOffsetsTopic)
      return done({ShareError::kUnknownTopic, "no topic named '" + t + "'", request.member_id, {}});
  }
  GroupEntry& group = group_entry(request.group_id, partition);
  if (request.member_id.empty()) request.member_id = new_member_id();
  group.members[request.member_id] = now_ms();
  auto op = std::make_shared<FetchOp>();
  op->state_partition = partition;
  op->load_id = load_id_of(partition);
  op->deadline_ms = now_ms() + std::max<int64_t>(0, request.wait_ms);
  op->request = std::move(request);
  op->done = std::move(done);
  op->timer = std::make_unique<asio::steady_timer>(io_);
  fetches_.insert(op);
  fetch_round(op);
}

void ShareCoordinator::fetch_round(const std::shared_ptr<FetchOp>& op) {
  if (op->answered) return;
  if (!slot_current(op->state_partition, op->load_id))
    return answer_fetch(*op, ShareError::kNotCoordinator, "the coordinator moved");
  auto image = backend_.metadata();
  std::vector<TopicPartition> tps;
  for (const auto& t : op->request.topics) {
    auto it = image->topics.find(t);
    if (it == image->topics.end()) continue;
    for (const auto& p : it->second.partitions) tps.push_back({t, p.id.value});
  }
  // Start at a random partition: with max_records smaller than what is
  // available, concurrent members spread over the partitions.
  if (!tps.empty())
    std::rotate(tps.begin(), tps.begin() + static_cast<long>(rng_() % tps.size()), tps.end());
  op->read_failed = false;
  op->at_end.clear();
  // Each read adds itself; the 1 is this loop, so that no completion
  // finishes the round before every read was started.
  op->pending = 1;
  for (const auto& tp : tps) fetch_partition(op, tp);
  if (--op->pending == 0) finish_round(op);
}

// Initializes the share-partition first (share.auto.offset.reset reads the
// log's start or end), then reads for delivery.
void ShareCoordinator::fetch_partition(const std::shared_ptr<FetchOp>& op,
                                       const TopicPartition& tp) {
  GroupEntry* group = find(op->request.group_id);
  if (!group) return;
  PartitionEntry& entry = partition_entry(*group, tp);
  if (entry.sp->initialized()) return read_for_fetch(op, tp);
  auto image = backend_.metadata();
  std::string reset = "latest";
  if (auto t = image->topics.find(tp.topic); t != image->topics.end()) {
    auto c = t->second.configs.find("share.auto.offset.reset");
    if (c != t->second.configs.end()) reset = c->second;
  }
  // Reading at offset 0 answers with the log start (out of range) or from it.
  op->pending++;
  share_io_.read(tp, 0, 1, [this, op, tp, reset](ShareRead r) {
    GroupEntry* group = find(op->request.group_id);
    if (!op->answered && group && slot_current(op->state_partition, op->load_id) &&
        r.high_watermark >= 0 &&
        (r.error == kafka::ErrorCode::kNone || r.error == kafka::ErrorCode::kOffsetOutOfRange)) {
      PartitionEntry& entry = partition_entry(*group, tp);
      if (!entry.sp->initialized()) {
        int64_t start = std::max<int64_t>(0, r.log_start_offset);
        entry.sp->initialize(reset == "earliest" ? start : r.high_watermark);
        op->dirty.insert(tp);
      }
      read_for_fetch(op, tp);
    } else {
      op->read_failed = true;
    }
    if (--op->pending == 0) finish_round(op);
  });
}

void ShareCoordinator::read_for_fetch(const std::shared_ptr<FetchOp>& op,
                                      const TopicPartition& tp) {
  GroupEntry* group = find(op->request.group_id);
  if (!group || op->records.size() >= op->request.max_records) return;
  PartitionEntry& entry = partition_entry(*group, tp);
  // INT64_MAX: the state machine does not know the high watermark; the read
  // stops there and acquire() checks each offset against the one it reports.
  const int64_t from = entry.sp->first_wanted(now_ms(), INT64_MAX);
  if (from < 0) return;
  // The records wanted, and the window's offsets before them that may be
  // skipped (locked or done).
  const size_t room = op->request.max_records - op->records.size();
  const auto window = static_cast<size_t>(entry.sp->config().partition_limit);
  const auto skippable = static_cast<size_t>(std::clamp<int64_t>(
      entry.sp->snapshot().next_offset - from, 0, static_cast<int64_t>(window)));
  op->pending++;
  share_io_.read(tp, from, read_bytes(entry.bytes_per_offset, room + skippable),
                 [this, op, tp](ShareRead r) {
                   if (!op->answered && slot_current(op->state_partition, op->load_id)) {
                     if (r.error == kafka::ErrorCode::kNone && r.high_watermark >= 0) {
                       op->at_end.emplace_back(tp, r.high_watermark);
                     } else if (r.error != kafka::ErrorCode::kOffsetOutOfRange) {
                       op->read_failed = true;
                     }
                     take_records(*op, tp, r);
                   }
                   if (--op->pending == 0) finish_round(op);
                 });
}

void ShareCoordinator::take_records(FetchOp& op, const TopicPartition& tp, const ShareRead& r) {
  GroupEntry* group = find(op.request.group_id);
  if (!group) return;
  PartitionEntry& entry = partition_entry(*group, tp);
  if (r.error == kafka::ErrorCode::kOffsetOutOfRange && r.log_start_offset >= 0) {
    entry.sp->advance_to_log_start(r.log_start_offset);
    op.dirty.insert(tp);
    return;
  }
  if (r.error != kafka::ErrorCode::kNone || r.batches.empty()) return;
  learn_batch_size(r.batches, &entry.bytes_per_offset);
  // Another partition's read may have filled the fetch meanwhile.
  if (op.records.size() >= op.request.max_records) return;
  const int64_t from = entry.sp->first_wanted(now_ms(), r.high_watermark);
  if (from < 0) return;
  const size_t room = op.request.max_records - std::min(op.request.max_records, op.records.size());
  // Enough to fill `room` even if every record of the window is skipped.
  const size_t window = static_cast<size_t>(entry.sp->config().partition_limit);
  auto decoded = decode_records(r.batches, from, room + window);
  std::vector<int64_t> found;
  for (const auto& d : decoded) found.push_back(d.offset);
  ShareEvents events;
  auto acquired =
      entry.sp->acquire(found, r.high_watermark, op.request.member_id, now_ms(), room, &events);
  count(*group, events);
  if (acquired.empty()) return;
  op.dirty.insert(tp);
  size_t k = 0;
  for (auto& d : decoded) {
    if (k == acquired.size()) break;
    if (d.offset != acquired[k]) continue;
    k++;
    ShareRecordOut out{tp,
                       d.offset,
                       d.timestamp_ms,
                       std::move(d.key),
                       std::move(d.value),
                       std::move(d.headers),
                       entry.sp->find(d.offset)->delivery_count};
    op.records.push_back(std::move(out));
  }
}

void ShareCoordinator::finish_round(const std::shared_ptr<FetchOp>& op) {
  if (op->answered) return;
  auto dirty = std::move(op->dirty);
  op->dirty.clear();
  persist(op->request.group_id, dirty, [this, op](ShareError e) {
    if (op->answered) return;
    if (e != ShareError::kNone) {
      // The locks stay in memory until they expire; the member never saw them.
      return answer_fetch(*op, e, "the coordinator could not persist the new locks");
    }
    if (!op->records.empty() || now_ms() >= op->deadline_ms)
      return answer_fetch(*op, ShareError::kNone, "");
    park(op);
  });
}

void ShareCoordinator::park(const std::shared_ptr<FetchOp>& op) {
  op->parked = true;
  op->parked_order = ++parks_;
  const uint64_t seq = ++op->park_seq;
  const int64_t now = now_ms();
  int64_t wake_at = op->deadline_ms;
  if (op->read_failed) wake_at = std::min<int64_t>(wake_at, now + kShareFetchRetryMs);
  if (GroupEntry* group = find(op->request.group_id)) {
    for (const auto& [tp, entry] : group->partitions) {
      if (std::find(op->request.topics.begin(), op->request.topics.end(), tp.topic) ==
          op->request.topics.end())
        continue;
      const int64_t at = entry.sp->next_available_at(now);
      if (at >= 0) wake_at = std::min(wake_at, at);
    }
  }
  std::weak_ptr<bool> alive = alive_;
  op->timer->expires_after(std::chrono::milliseconds(std::max<int64_t>(0, wake_at - now)));
  op->timer->async_wait([this, alive, op, seq](const asio::error_code& ec) {
    if (!ec && !alive.expired()) resume(op, seq);
  });
  if (op->at_end.empty()) return;
  share_io_.watch(op->at_end,
                  std::chrono::milliseconds(std::max<int64_t>(0, op->deadline_ms - now)),
                  [this, alive, op, seq] {
                    if (!alive.expired()) resume(op, seq);
                  });
}

void ShareCoordinator::resume(const std::shared_ptr<FetchOp>& op, uint64_t park_seq) {
  if (op->answered || !op->parked || op->park_seq != park_seq) return;
  op->parked = false;
  op->timer->cancel();
  fetch_round(op);
}

// Wakes the fetches parked longest first, as many as `records` could serve:
// waking every parked fetch for each ack made them all read the log to find
// the few records one of them takes (a thundering herd that cost more than
// the polling it replaced). One that finds nothing parks again at the back.
void ShareCoordinator::wake_fetches(const std::string& group_id, size_t records) {
  std::vector<std::shared_ptr<FetchOp>> parked;
  for (const auto& op : fetches_)
    if (op->parked && op->request.group_id == group_id) parked.push_back(op);
  std::sort(parked.begin(), parked.end(),
            [](const auto& a, const auto& b) { return a->parked_order < b->parked_order; });
  std::weak_ptr<bool> alive = alive_;
  size_t served = 0;
  for (const auto& op : parked) {
    if (served >= records) break;
    served += op->request.max_records;
    // Later, not inside the caller (an ack still applying its changes).
    asio::post(io_, [this, alive, op, seq = op->park_seq] {
      if (!alive.expired()) resume(op, seq);
    });
  }
}

void ShareCoordinator::answer_fetch(FetchOp& op, ShareError error, const std::string& message) {
  if (op.answered) return;
  op.answered = true;
  for (auto it = fetches_.begin(); it != fetches_.end(); ++it) {
    if (it->get() == &op) {
      fetches_.erase(it);
      break;
    }
  }
  if (op.timer) op.timer->cancel();
  ShareFetchResult result;
  result.error = error;
  result.message = message;
  result.member_id = op.request.member_id;
  if (error == ShareError::kNone) result.records = std::move(op.records);
  auto done = std::move(op.done);
  done(std::move(result));
}

}  // namespace dmq::group
