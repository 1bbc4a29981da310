#include "cluster/metadata_raft_adapter.h"

#include "common/log.h"

namespace dmq::cluster {

raft::LogIndex MetadataRaftAdapter::applied_index() {
  std::lock_guard lock(mutex_);
  return raft::LogIndex(store_.applied_index().value);
}

void MetadataRaftAdapter::stage(const std::vector<raft::Entry>& entries) {
  std::vector<CommittedEntry> committed;
  committed.reserve(entries.size());
  for (const auto& e : entries) committed.push_back({LogIndex{e.index.value}, e.data});
  // Staging reads the current state and builds the next one; readers of the
  // current state are not disturbed.
  store_.stage(committed);
}

void MetadataRaftAdapter::write_staged(store::WriteTxn& txn) {
  store_.write_staged(txn);
}

void MetadataRaftAdapter::publish_staged() {
  std::lock_guard lock(mutex_);
  for (const auto& result : store_.publish_staged()) {
    if (!result.status) {
      LOG_INFO("metadata") << "entry " << result.index.value
                           << " applied as a no-op: " << result.status.error().message;
    }
    outcomes_[result.index.value] = result.status;
  }
  while (outcomes_.size() > kOutcomesKept) outcomes_.erase(outcomes_.begin());
}

std::string MetadataRaftAdapter::snapshot() {
  std::lock_guard lock(mutex_);
  return store_.snapshot();
}

void MetadataRaftAdapter::restore(const std::string& data, raft::LogIndex index) {
  std::lock_guard lock(mutex_);
  Status status = store_.restore(data, LogIndex{index.value});
  if (!status) {
    // A snapshot that does not decode cannot be applied; continuing would
    // diverge from the other nodes.
    LOG_ERROR("metadata") << "cannot restore snapshot at " << index.value << ": "
                          << status.error().message;
    std::abort();
  }
}

std::optional<Status> MetadataRaftAdapter::outcome(raft::LogIndex index) {
  std::lock_guard lock(mutex_);
  auto it = outcomes_.find(index.value);
  if (it == outcomes_.end()) return std::nullopt;
  return it->second;
}

void MetadataRaftAdapter::with_state(const std::function<void(const MetadataState&)>& fn) {
  std::lock_guard lock(mutex_);
  fn(store_.state());
}

}  // namespace dmq::cluster
