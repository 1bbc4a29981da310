#pragma once
// MetadataStore: the metadata state machine persisted in LMDB tables of a
// store::Env, with the applied index in the same tables, so an entry's effects
// and the applied-index move commit in one write transaction (DESIGN.md §4: a
// crash never applies an entry twice, nor loses one it reported applied).
//
// Tables (named LMDB databases in the node's environment):
//   cluster_brokers  be64(broker id) -> broker value   (image_codec.h)
//   cluster_topics   topic name      -> topic value
//   cluster_meta     "applied_index" -> be64, "globals" -> globals value
//
// Threading: one owner thread calls everything; the Env may be shared with
// other components (LMDB serializes writers). Env::write may re-run its
// function after growing the map, so all state changes are computed before the
// transaction and only copied into it; the in-memory image is replaced only
// after the commit succeeded.
//
// Errors: LMDB failures are thrown as store::StoreError and are fatal for the
// caller (the in-memory image is unchanged; stop applying, as for a failed
// fsync). Malformed table bytes at load() and malformed snapshots are values.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/error.h"
#include "cluster/metadata_state.h"
#include "store/lmdb.h"

namespace dmq::cluster {

struct CommittedEntry {
  LogIndex index;
  std::string payload;  // an encoded RecordBatch, or empty for a Raft no-op
};

// What became of one entry: ok, or the reason it was applied as a no-op (the
// controller returns it to whoever proposed the entry).
struct ApplyResult {
  LogIndex index;
  Status status;
};

class MetadataStore {
 public:
  // Opens (creating if missing) the tables; `env` must outlive the store. The
  // image starts empty: call load() to read the tables.
  explicit MetadataStore(store::Env& env);

  // Rebuilds the in-memory image from the tables (start-up).
  // kCorruptStore if a row does not decode or the image breaks the invariants.
  Status load();

  // Applies committed entries in index order and persists them together with
  // the new applied index in one transaction. Entries at or below the applied
  // index (already applied before a restart) are skipped and not reported.
  // Requires indexes to increase.
  std::vector<ApplyResult> apply_committed(const std::vector<CommittedEntry>& entries);

  // apply_committed in three steps, for a caller that owns the transaction
  // (the Raft driver persists its log and the applies in one commit):
  // stage() computes the next state, write_staged() copies it into the
  // caller's transaction (it may run more than once), publish_staged() makes
  // it current after the commit and returns what became of each entry.
  void stage(const std::vector<CommittedEntry>& entries);
  void write_staged(store::WriteTxn& txn) const;
  std::vector<ApplyResult> publish_staged();

  // The image and applied index as bytes, for a Raft snapshot.
  std::string snapshot() const { return state_.snapshot(); }
  // Replaces every table with the snapshot's content, in one transaction.
  // kCorruptStore if the bytes are malformed or were taken at another index.
  Status restore(std::string_view bytes, LogIndex index);

  const MetadataState& state() const { return state_; }
  LogIndex applied_index() const { return state_.applied_index(); }

 private:
  Status read_tables(const store::ReadTxn& txn, MetadataImage* image, LogIndex* applied) const;
  void write_changes(store::WriteTxn& txn, const MetadataState& next,
                     const ImageChanges& changes) const;

  struct Staged {
    MetadataState next;
    ImageChanges changes;
    std::vector<ApplyResult> results;
  };
  std::optional<Staged> staged_;

  store::Env& env_;
  store::Dbi brokers_;
  store::Dbi topics_;
  store::Dbi meta_;
  MetadataState state_;
};

}  // namespace dmq::cluster
