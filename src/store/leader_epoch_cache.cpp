#include "store/leader_epoch_cache.h"

#include <algorithm>
#include <charconv>

namespace dmq::store {

bool LeaderEpochCache::assign(LeaderEpoch epoch, Offset start_offset) {
  if (epoch.value < 0 || start_offset.value < 0) return false;
  if (!entries_.empty()) {
    const EpochEntry& last = entries_.back();
    if (epoch < last.epoch) return false;  // a stale leader's epoch never rewrites history
    if (epoch == last.epoch && start_offset >= last.start_offset) return false;
  }
  std::erase_if(entries_, [&](const EpochEntry& e) {
    return e.epoch >= epoch || e.start_offset >= start_offset;
  });
  entries_.push_back({epoch, start_offset});
  return true;
}

EpochEndOffset LeaderEpochCache::end_offset_for(LeaderEpoch requested,
                                                Offset log_end_offset) const {
  if (requested.value < 0 || entries_.empty()) return {};
  if (requested == entries_.back().epoch) return {requested, log_end_offset};
  auto after = std::upper_bound(entries_.begin(), entries_.end(), requested,
                                [](LeaderEpoch r, const EpochEntry& e) { return r < e.epoch; });
  if (after == entries_.end()) return {};  // newer than any epoch this replica knows
  if (after == entries_.begin()) return {requested, after->start_offset};
  return {std::prev(after)->epoch, after->start_offset};
}

bool LeaderEpochCache::truncate_from_end(Offset end) {
  return std::erase_if(entries_, [&](const EpochEntry& e) { return e.start_offset >= end; }) > 0;
}

bool LeaderEpochCache::truncate_from_start(Offset start) {
  auto first_kept = std::find_if(entries_.begin(), entries_.end(),
                                 [&](const EpochEntry& e) { return e.start_offset >= start; });
  if (first_kept == entries_.begin()) return false;
  LeaderEpoch covering = std::prev(first_kept)->epoch;
  entries_.erase(entries_.begin(), first_kept);
  if (entries_.empty() || entries_.front().start_offset > start) {
    entries_.insert(entries_.begin(), {covering, start});
  }
  return true;
}

std::optional<LeaderEpoch> LeaderEpochCache::latest_epoch() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().epoch;
}

std::string LeaderEpochCache::encode() const {
  std::string out = "0\n" + std::to_string(entries_.size()) + "\n";
  for (const EpochEntry& e : entries_) {
    out += std::to_string(e.epoch.value) + " " + std::to_string(e.start_offset.value) + "\n";
  }
  return out;
}

namespace {

bool take_int(std::string_view& text, char terminator, int64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec != std::errc() || ptr == text.data() + text.size() || *ptr != terminator) return false;
  text.remove_prefix(static_cast<size_t>(ptr - text.data()) + 1);
  return true;
}

}  // namespace

std::optional<LeaderEpochCache> LeaderEpochCache::decode(std::string_view text) {
  int64_t version = 0;
  int64_t count = 0;
  if (!take_int(text, '\n', &version) || version != 0) return std::nullopt;
  if (!take_int(text, '\n', &count) || count < 0) return std::nullopt;
  LeaderEpochCache cache;
  for (int64_t i = 0; i < count; ++i) {
    int64_t epoch = 0;
    int64_t start = 0;
    if (!take_int(text, ' ', &epoch) || !take_int(text, '\n', &start)) return std::nullopt;
    if (epoch < 0 || epoch > INT32_MAX || start < 0) return std::nullopt;
    EpochEntry e{LeaderEpoch(static_cast<int32_t>(epoch)), Offset(start)};
    if (!cache.entries_.empty() && (e.epoch <= cache.entries_.back().epoch ||
                                    e.start_offset <= cache.entries_.back().start_offset)) {
      return std::nullopt;
    }
    cache.entries_.push_back(e);
  }
  if (!text.empty()) return std::nullopt;
  return cache;
}

}  // namespace dmq::store
