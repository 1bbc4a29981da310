#include "group/share_partition.h"

#include <algorithm>

#include "common/assert.h"

namespace dmq::group {

const char* record_state_name(RecordState s) {
  switch (s) {
    case RecordState::kAvailable:
      return "AVAILABLE";
    case RecordState::kAcquired:
      return "ACQUIRED";
    case RecordState::kAcknowledged:
      return "ACKNOWLEDGED";
    case RecordState::kArchived:
      return "ARCHIVED";
    case RecordState::kDeadLettering:
      return "DEAD_LETTERING";
  }
  return "UNKNOWN";
}

const char* ack_error_name(AckError e) {
  switch (e) {
    case AckError::kNone:
      return "none";
    case AckError::kNotDelivered:
      return "record_not_delivered";
    case AckError::kNotInFlight:
      return "record_not_in_flight";
    case AckError::kWrongMember:
      return "record_locked_by_another_member";
  }
  return "unknown";
}

namespace {

bool terminal(RecordState s) {
  return s == RecordState::kAcknowledged || s == RecordState::kArchived;
}

}  // namespace

SharePartition::SharePartition(ShareConfig config, std::function<double()> uniform01)
    : config_(config), uniform01_(std::move(uniform01)) {}

SharePartition SharePartition::restore(ShareConfig config, std::function<double()> uniform01,
                                       SharePartitionSnapshot snapshot) {
  SharePartition sp(config, std::move(uniform01));
  sp.s_ = std::move(snapshot);
  return sp;
}

void SharePartition::initialize(int64_t offset) {
  DMQ_ASSERT(!initialized());
  DMQ_ASSERT(offset >= 0);
  s_.start_offset = offset;
  s_.next_offset = offset;
}

void SharePartition::advance_to_log_start(int64_t log_start_offset) {
  if (!initialized() || log_start_offset <= s_.start_offset) return;
  // Records the log deleted can be neither delivered nor dead-lettered with
  // their content; a pending dead letter keeps its entry (it is written with
  // a null value and says why).
  for (auto& [offset, r] : s_.records) {
    if (offset >= log_start_offset) break;
    if (r.state == RecordState::kAvailable || r.state == RecordState::kAcquired) {
      r.state = RecordState::kArchived;
      r.member_id.clear();
    }
  }
  if (s_.next_offset < log_start_offset) s_.next_offset = log_start_offset;
  for (int64_t o = s_.start_offset; o < log_start_offset; ++o) {
    if (!s_.records.count(o)) s_.records[o].state = RecordState::kArchived;
  }
  maybe_advance_start();
}

bool SharePartition::window_full() const {
  return s_.next_offset - s_.start_offset >= config_.partition_limit;
}

int64_t SharePartition::first_wanted(int64_t now_ms, int64_t high_watermark) const {
  if (!initialized()) return -1;
  for (const auto& [offset, r] : s_.records) {
    if (r.state == RecordState::kAvailable && r.available_at_ms <= now_ms) return offset;
  }
  if (s_.next_offset < high_watermark && !window_full()) return s_.next_offset;
  return -1;
}

int64_t SharePartition::next_available_at(int64_t now_ms) const {
  int64_t out = -1;
  for (const auto& [offset, r] : s_.records) {
    if (r.state != RecordState::kAvailable || r.available_at_ms <= now_ms) continue;
    if (out < 0 || r.available_at_ms < out) out = r.available_at_ms;
  }
  return out;
}

std::vector<int64_t> SharePartition::acquire(const std::vector<int64_t>& found,
                                             int64_t high_watermark, const std::string& member_id,
                                             int64_t now_ms, size_t max, ShareEvents* events) {
  std::vector<int64_t> out;
  if (!initialized()) return out;
  for (int64_t offset : found) {
    if (out.size() >= max) break;
    if (offset >= high_watermark) break;
    if (offset < s_.next_offset) {
      auto it = s_.records.find(offset);
      if (it == s_.records.end()) continue;
      InFlightRecord& r = it->second;
      if (r.state != RecordState::kAvailable || r.available_at_ms > now_ms) continue;
    } else {
      if (window_full()) break;
      // The log has no records in [next_offset, offset) (a gap): nothing to
      // deliver there, so it is done.
      for (int64_t gap = s_.next_offset; gap < offset; ++gap)
        s_.records[gap].state = RecordState::kArchived;
      s_.next_offset = offset + 1;
    }
    InFlightRecord& r = s_.records[offset];
    r.state = RecordState::kAcquired;
    r.delivery_count++;
    r.member_id = member_id;
    r.lock_deadline_ms = now_ms + config_.lock_duration_ms;
    if (events && r.delivery_count > 1) events->redeliveries++;
    out.push_back(offset);
  }
  maybe_advance_start();
  return out;
}

AckError SharePartition::check_ack(int64_t offset, const std::string& member_id) const {
  if (!initialized() || offset >= s_.next_offset) return AckError::kNotDelivered;
  if (offset < s_.start_offset) return AckError::kNotInFlight;
  auto it = s_.records.find(offset);
  if (it == s_.records.end()) return AckError::kNotInFlight;
  const InFlightRecord& r = it->second;
  if (r.delivery_count == 0) return AckError::kNotDelivered;
  if (r.state != RecordState::kAcquired) return AckError::kNotInFlight;
  if (r.member_id != member_id) return AckError::kWrongMember;
  return AckError::kNone;
}

void SharePartition::ack(int64_t offset, AckType type, const std::string& error, int64_t now_ms,
                         ShareEvents* events) {
  auto it = s_.records.find(offset);
  DMQ_ASSERT(it != s_.records.end());
  InFlightRecord& r = it->second;
  DMQ_ASSERT(r.state == RecordState::kAcquired);
  r.member_id.clear();
  if (!error.empty()) r.last_error = error;
  switch (type) {
    case AckType::kAccept:
      r.state = RecordState::kAcknowledged;
      break;
    case AckType::kRelease:
      // KIP-932: a release at the delivery limit archives the record.
      if (r.delivery_count >= config_.delivery_count_limit) {
        if (r.last_error.empty()) r.last_error = "released at the delivery limit";
        fail(offset, r, events);
      } else {
        make_available(r, now_ms);
      }
      break;
    case AckType::kReject:
      if (r.last_error.empty()) r.last_error = "rejected";
      fail(offset, r, events);
      break;
  }
  maybe_advance_start();
}

void SharePartition::expire_locks(int64_t now_ms, ShareEvents* events) {
  bool changed = false;
  for (auto& [offset, r] : s_.records) {
    if (r.state != RecordState::kAcquired || r.lock_deadline_ms > now_ms) continue;
    changed = true;
    if (events) events->lock_expiries++;
    r.member_id.clear();
    r.last_error = "lock expired after " + std::to_string(config_.lock_duration_ms) + " ms";
    if (r.delivery_count >= config_.delivery_count_limit) {
      fail(offset, r, events);
    } else {
      make_available(r, now_ms);
    }
  }
  if (changed) maybe_advance_start();
}

void SharePartition::fail(int64_t offset, InFlightRecord& r, ShareEvents* events) {
  if (events) events->failed++;
  r.member_id.clear();
  if (!config_.dead_letter) {
    r.state = RecordState::kArchived;
    return;
  }
  // The sequence is fixed now, with the intent, so that a retry of this
  // write after a failover carries the same one and the dead-letter
  // partition's producer state drops it as a duplicate.
  r.state = RecordState::kDeadLettering;
  r.dead_letter_sequence = s_.next_sequence++;
}

void SharePartition::make_available(InFlightRecord& r, int64_t now_ms) {
  r.state = RecordState::kAvailable;
  r.available_at_ms = now_ms + backoff_ms(r.delivery_count);
}

int64_t SharePartition::backoff_ms(int32_t delivery_count) const {
  if (config_.retry_backoff_ms <= 0) return 0;
  const int64_t cap = std::max(config_.retry_backoff_max_ms, config_.retry_backoff_ms);
  int64_t d = config_.retry_backoff_ms;
  for (int32_t i = 1; i < delivery_count && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  const double u = uniform01_ ? std::clamp(uniform01_(), 0.0, 1.0) : 1.0;
  return d / 2 + static_cast<int64_t>(static_cast<double>(d - d / 2) * u);
}

std::vector<int64_t> SharePartition::dead_letters_pending() const {
  std::vector<std::pair<int32_t, int64_t>> by_sequence;
  for (const auto& [offset, r] : s_.records) {
    if (r.state == RecordState::kDeadLettering)
      by_sequence.push_back({r.dead_letter_sequence, offset});
  }
  std::sort(by_sequence.begin(), by_sequence.end());
  std::vector<int64_t> out;
  for (const auto& [seq, offset] : by_sequence) out.push_back(offset);
  return out;
}

void SharePartition::dead_letter_done(int64_t offset) {
  auto it = s_.records.find(offset);
  if (it == s_.records.end() || it->second.state != RecordState::kDeadLettering) return;
  it->second.state = RecordState::kArchived;
  s_.dead_lettered++;
  maybe_advance_start();
}

void SharePartition::set_producer(int64_t producer_id, int16_t producer_epoch) {
  s_.producer_id = producer_id;
  s_.producer_epoch = producer_epoch;
}

size_t SharePartition::in_flight() const {
  size_t n = 0;
  for (const auto& [offset, r] : s_.records) n += r.state == RecordState::kAcquired ? 1 : 0;
  return n;
}

const InFlightRecord* SharePartition::find(int64_t offset) const {
  auto it = s_.records.find(offset);
  return it == s_.records.end() ? nullptr : &it->second;
}

// Done records at the front of the window leave it: the snapshot stays as
// small as the records still in play.
void SharePartition::maybe_advance_start() {
  while (s_.start_offset < s_.next_offset) {
    auto it = s_.records.find(s_.start_offset);
    if (it != s_.records.end() && !terminal(it->second.state)) break;
    if (it != s_.records.end()) s_.records.erase(it);
    s_.start_offset++;
  }
}

}  // namespace dmq::group
