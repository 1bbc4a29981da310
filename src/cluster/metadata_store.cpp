#include "cluster/metadata_store.h"

#include "cluster/image_codec.h"

namespace dmq::cluster {
namespace {

constexpr std::string_view kAppliedIndexKey = "applied_index";
constexpr std::string_view kGlobalsKey = "globals";

std::string broker_key(BrokerId id) {
  return store::be64_key(static_cast<uint32_t>(id.value));
}

Error corrupt(std::string what) {
  return Error{ErrorCode::kCorruptStore, std::move(what)};
}

}  // namespace

MetadataStore::MetadataStore(store::Env& env)
    : env_(env),
      brokers_(env.open_db("cluster_brokers")),
      topics_(env.open_db("cluster_topics")),
      meta_(env.open_db("cluster_meta")) {}

Status MetadataStore::load() {
  MetadataImage image;
  LogIndex applied{0};
  Status status;
  env_.read([&](const store::ReadTxn& txn) { status = read_tables(txn, &image, &applied); });
  if (!status) return status;
  MetadataState loaded(std::move(image), applied);
  if (Status s = loaded.check_invariants(); !s) {
    return corrupt("tables: " + s.error().message);
  }
  state_ = std::move(loaded);
  return {};
}

Status MetadataStore::read_tables(const store::ReadTxn& txn, MetadataImage* image,
                                  LogIndex* applied) const {
  store::Cursor brokers = txn.cursor(brokers_);
  for (bool more = brokers.first(); more; more = brokers.next()) {
    Result<BrokerRegistration> b = decode_broker(brokers.value());
    if (!b) return b.error();
    if (broker_key(b.value().id) != brokers.key()) return corrupt("broker row key mismatch");
    image->brokers[b.value().id] = std::move(b).value();
  }
  store::Cursor topics = txn.cursor(topics_);
  for (bool more = topics.first(); more; more = topics.next()) {
    Result<TopicState> t = decode_topic(topics.value());
    if (!t) return t.error();
    if (t.value().name != topics.key()) return corrupt("topic row key mismatch");
    std::string name = t.value().name;
    image->topics[name] = std::move(t).value();
  }
  if (auto g = txn.get(meta_, kGlobalsKey)) {
    if (Status s = decode_globals(*g, image); !s) return s;
  }
  if (auto a = txn.get(meta_, kAppliedIndexKey)) {
    if (a->size() != 8) return corrupt("applied index is not 8 bytes");
    *applied = LogIndex{store::decode_be64(*a)};
  }
  return {};
}

void MetadataStore::write_changes(store::WriteTxn& txn, const MetadataState& next,
                                  const ImageChanges& changes) const {
  for (BrokerId id : changes.brokers) {
    if (const BrokerRegistration* b = next.find_broker(id)) {
      txn.put(brokers_, broker_key(id), encode_broker(*b));
    } else {
      txn.del(brokers_, broker_key(id));
    }
  }
  for (const std::string& name : changes.topics) {
    if (const TopicState* t = next.find_topic(name)) {
      txn.put(topics_, name, encode_topic(*t));
    } else {
      txn.del(topics_, name);
    }
  }
  if (changes.globals) txn.put(meta_, kGlobalsKey, encode_globals(next.image()));
  txn.put(meta_, kAppliedIndexKey, store::be64_key(next.applied_index().value));
}

std::vector<ApplyResult> MetadataStore::apply_committed(
    const std::vector<CommittedEntry>& entries) {
  stage(entries);
  if (staged_->results.empty()) return publish_staged();
  env_.write([&](store::WriteTxn& txn) { write_staged(txn); });
  return publish_staged();
}

void MetadataStore::stage(const std::vector<CommittedEntry>& entries) {
  Staged staged{state_, {}, {}};
  staged.next.take_changes();
  for (const CommittedEntry& e : entries) {
    if (e.index <= staged.next.applied_index()) continue;
    staged.results.push_back({e.index, staged.next.apply_bytes(e.payload, e.index)});
  }
  staged.changes = staged.next.take_changes();
  staged_ = std::move(staged);
}

void MetadataStore::write_staged(store::WriteTxn& txn) const {
  if (staged_ && !staged_->results.empty()) write_changes(txn, staged_->next, staged_->changes);
}

std::vector<ApplyResult> MetadataStore::publish_staged() {
  if (!staged_) return {};
  std::vector<ApplyResult> results = std::move(staged_->results);
  if (!results.empty()) state_ = std::move(staged_->next);
  staged_.reset();
  return results;
}

Status MetadataStore::restore(std::string_view bytes, LogIndex index) {
  Result<MetadataState> restored = MetadataState::from_snapshot(bytes);
  if (!restored) return restored.error();
  MetadataState next = std::move(restored).value();
  if (next.applied_index() != index) {
    return corrupt("snapshot was taken at index " + std::to_string(next.applied_index().value) +
                   ", not " + std::to_string(index.value));
  }
  ImageChanges all;
  for (const auto& [id, b] : next.image().brokers) all.brokers.insert(id);
  for (const auto& [name, t] : next.image().topics) all.topics.insert(name);
  all.globals = true;
  env_.write([&](store::WriteTxn& txn) {
    txn.clear(brokers_);
    txn.clear(topics_);
    txn.clear(meta_);
    write_changes(txn, next, all);
  });
  next.take_changes();
  state_ = std::move(next);
  return {};
}

}  // namespace dmq::cluster
