#pragma once
// Group commit of share-partition snapshots into one __share_group_state
// partition: at most one append is in flight; every change that arrives
// meanwhile waits, and when the append ends, all of them go out together as
// the next one (each share-partition once, with its state at that moment).
// One acks=all write then carries the locks and acknowledgements of many
// concurrent fetches and acks, instead of one write each, one after another.
//
// The rule that keeps an answered change durable: a waiter is answered with
// the result of an append started after its change was made in memory, so
// the snapshot that append encodes contains the change. A change added while
// an append is in flight therefore never rides on that append (its snapshot
// was encoded before), only on the next.
//
//   ShareWriteQueue<Key, Waiter> q;
//   q.add(keys, waiter);
//   if (auto batch = q.maybe_start()) append(batch->keys, ...);  // keeps batch->waiters
//   ... when that append is acknowledged or failed:
//   q.finish();  // answer the batch's waiters, then maybe_start() again
//
// Pure: no I/O, no clock. Threads: one owner, no locking.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace dmq::group {

template <class Key, class Waiter>
class ShareWriteQueue {
 public:
  struct Batch {
    std::set<Key> keys;           // what to encode and append, once each
    std::vector<Waiter> waiters;  // answered with that append's result, in arrival order
  };

  // A change to the state of `keys` was made in memory; `waiter` wants to
  // hear once it is durable. An empty `keys` still waits for its turn (its
  // answer must not overtake an append in flight that it may depend on).
  void add(const std::set<Key>& keys, Waiter waiter) {
    pending_.keys.insert(keys.begin(), keys.end());
    pending_.waiters.push_back(std::move(waiter));
  }

  // The next append to make, when none is in flight and something waits;
  // it is in flight from now until finish().
  std::optional<Batch> maybe_start() {
    if (in_flight_ || pending_.waiters.empty()) return std::nullopt;
    in_flight_ = true;
    Batch out = std::move(pending_);
    pending_ = Batch{};
    appends_++;
    changes_ += out.waiters.size();
    return out;
  }

  // The append in flight ended (its batch's waiters are the caller's to
  // answer). Once per maybe_start() that gave a batch.
  void finish() { in_flight_ = false; }

  // Everything waiting and not yet in flight (the coordinator lost the
  // partition: they are answered with an error).
  Batch take_pending() {
    Batch out = std::move(pending_);
    pending_ = Batch{};
    return out;
  }

  bool in_flight() const { return in_flight_; }
  size_t waiting() const { return pending_.waiters.size(); }
  // Appends started, and changes they carried (their ratio is the batching).
  uint64_t appends() const { return appends_; }
  uint64_t changes() const { return changes_; }

 private:
  Batch pending_;
  bool in_flight_ = false;
  uint64_t appends_ = 0;
  uint64_t changes_ = 0;
};

}  // namespace dmq::group
