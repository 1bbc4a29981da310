#include "group/share_io.h"

#include <memory>

#include "group/coordinator_internal.h"
#include "kafka/protocol/record_batch.h"

namespace dmq::group {

ShareRead share_read_local(broker::Backend& backend, const TopicPartition& tp, int64_t offset,
                           uint32_t max_bytes) {
  ShareRead out;
  broker::FetchRead r =
      backend.fetch(tp.topic, broker::PartitionId(tp.partition), broker::Offset(offset), max_bytes,
                    broker::kConsumerReplicaId, store::kUnknownLeaderEpoch);
  out.error = r.error;
  out.log_start_offset = r.log_start_offset.value;
  out.high_watermark = r.high_watermark.value;
  if (r.error == kafka::ErrorCode::kNone && r.records && !read_chunk(*r.records, out.batches))
    out.error = kafka::ErrorCode::kKafkaStorageError;
  return out;
}

void share_append_local(broker::Backend& backend, const TopicPartition& tp, std::string batch,
                        std::function<void(ShareAppend)> done) {
  const broker::PartitionId id(tp.partition);
  broker::ProduceTarget target = backend.produce_target(tp.topic, id, broker::Acks::kAll);
  if (target.error != kafka::ErrorCode::kNone) return done({target.error, -1});
  if (static_cast<int64_t>(batch.size()) > target.max_batch_bytes)
    return done({kafka::ErrorCode::kMessageTooLarge, -1});
  auto bytes = std::make_shared<std::string>(std::move(batch));
  broker::ValidatedBatch validated{std::span<char>(bytes->data(), bytes->size()), {}};
  if (kafka::read_batch_header(*bytes, validated.header) != kafka::BatchError::kOk)
    return done({kafka::ErrorCode::kCorruptMessage, -1});
  backend.produce(tp.topic, id, validated, broker::Acks::kAll,
                  [bytes, done = std::move(done)](const broker::ProduceResult& r) {
                    done({r.error, r.base_offset.value});
                  });
}

}  // namespace dmq::group
