#include "group/internal_topic.h"

#include "common/batch_layout.h"
#include "common/log.h"
#include "group/coordinator_internal.h"
#include "kafka/protocol/record_batch.h"

namespace dmq::group {

void run_after(asio::io_context& io, std::chrono::milliseconds delay, std::weak_ptr<bool> alive,
               std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(io, delay);
  timer->async_wait(
      [timer, alive = std::move(alive), fn = std::move(fn)](const asio::error_code& ec) {
        if (ec || alive.expired()) return;
        fn();
      });
}

namespace {

std::shared_ptr<std::string> build_batch(const std::vector<InternalRecord>& records,
                                         int64_t timestamp_ms,
                                         kafka::RecordBatchBuilder::Options options = {}) {
  kafka::RecordBatchBuilder builder(options);
  for (const auto& [key, value] : records) {
    if (value) {
      builder.add(timestamp_ms, std::string_view(key), std::string_view(*value));
    } else {
      builder.add(timestamp_ms, std::string_view(key), std::nullopt);
    }
  }
  return std::make_shared<std::string>(builder.build());
}

broker::ValidatedBatch validated_view(std::string& batch) {
  broker::ValidatedBatch validated{std::span<char>(batch.data(), batch.size()), {}};
  // Built by build_batch, so well-formed: its header is read, not validated.
  kafka::read_batch_header(batch, validated.header);
  return validated;
}

}  // namespace

void append_internal(broker::Backend& backend, std::string_view topic, int32_t partition,
                     const std::vector<InternalRecord>& records, int64_t timestamp_ms,
                     std::weak_ptr<bool> alive,
                     std::function<void(kafka::ErrorCode, int64_t)> done) {
  auto batch = build_batch(records, timestamp_ms);
  const broker::PartitionId id(partition);
  // Written like a Produce with acks=all (Kafka's coordinators do the same).
  broker::ProduceTarget target = backend.produce_target(topic, id, broker::Acks::kAll);
  if (target.error != kafka::ErrorCode::kNone) {
    done(target.error, -1);
    return;
  }
  backend.produce(
      topic, id, validated_view(*batch), broker::Acks::kAll,
      [batch, alive = std::move(alive), done = std::move(done)](const broker::ProduceResult& r) {
        if (alive.expired()) return;
        done(r.error, r.base_offset.value);
      });
}

void append_internal_txn(broker::Backend& backend, std::string_view topic, int32_t partition,
                         const std::vector<InternalRecord>& records, int64_t timestamp_ms,
                         const TxnProducer& producer, std::weak_ptr<bool> alive,
                         std::function<void(kafka::ErrorCode)> done) {
  kafka::RecordBatchBuilder::Options options;
  options.producer_id = producer.producer_id;
  options.producer_epoch = producer.producer_epoch;
  options.base_sequence = 0;
  options.attributes = batch_layout::kTransactionalBit;
  auto batch = build_batch(records, timestamp_ms, options);
  const broker::PartitionId id(partition);
  broker::ProduceTarget target = backend.produce_target(topic, id, broker::Acks::kAll);
  if (target.error != kafka::ErrorCode::kNone) {
    done(target.error);
    return;
  }
  backend.append_txn_offsets(
      topic, id, validated_view(*batch), producer.transactional_id,
      [batch, alive = std::move(alive), done = std::move(done)](const broker::ProduceResult& r) {
        if (alive.expired()) return;
        done(r.error);
      });
}

void append_load_marker(broker::Backend& backend, std::string_view topic, int32_t partition,
                        std::string marker_key, int64_t timestamp_ms, std::weak_ptr<bool> alive,
                        std::function<void(int64_t, int64_t)> ready,
                        std::function<void()> refused) {
  append_internal(
      backend, topic, partition, {{std::move(marker_key), std::nullopt}}, timestamp_ms, alive,
      [&backend, topic = std::string(topic), partition, ready = std::move(ready),
       refused = std::move(refused)](kafka::ErrorCode e, int64_t base_offset) {
        if (e != kafka::ErrorCode::kNone) return refused();
        auto start = backend.list_offset(topic, broker::PartitionId(partition), -2);
        ready(start.error == kafka::ErrorCode::kNone ? start.offset.value : 0, base_offset + 1);
      });
}

std::map<int32_t, int32_t> led_partitions(const cluster::MetadataImage& image,
                                          std::string_view topic, int32_t self) {
  std::map<int32_t, int32_t> led;
  if (auto it = image.topics.find(topic); it != image.topics.end()) {
    for (const auto& p : it->second.partitions) {
      if (p.leader.value == self) led[p.id.value] = p.leader_epoch.value;
    }
  }
  return led;
}

LoadProgress load_chunk(broker::Backend& backend, std::string_view topic, int32_t partition,
                        int64_t& next, const std::function<void(const std::string&)>& apply) {
  broker::FetchRead read =
      backend.fetch(topic, broker::PartitionId(partition), broker::Offset(next), 1u << 20,
                    broker::kConsumerReplicaId, store::kUnknownLeaderEpoch);
  if (read.error == kafka::ErrorCode::kOffsetOutOfRange && read.log_start_offset.value > next) {
    next = read.log_start_offset.value;
    return LoadProgress::kAdvanced;
  }
  std::string batches;
  if (read.error != kafka::ErrorCode::kNone || !read.records ||
      !read_chunk(*read.records, batches)) {
    return LoadProgress::kNotReady;
  }
  const int64_t before = next;
  apply(batches);
  if (next == before) {
    LOG_WARN("group") << topic << "-" << partition << ": no progress loading at offset " << before;
    return LoadProgress::kStalled;
  }
  return LoadProgress::kAdvanced;
}

void continue_load(asio::io_context& io, LoadProgress progress, std::weak_ptr<bool> alive,
                   std::function<void()> again) {
  switch (progress) {
    case LoadProgress::kAdvanced:
      return asio::post(io, [alive = std::move(alive), again = std::move(again)] {
        if (!alive.expired()) again();
      });
    case LoadProgress::kNotReady:
      return run_after(io, std::chrono::milliseconds(50), std::move(alive), std::move(again));
    case LoadProgress::kStalled:
      return run_after(io, std::chrono::milliseconds(500), std::move(alive), std::move(again));
  }
}

}  // namespace dmq::group
