#pragma once
// Batching producer used by `dmq produce`: records are added to one batch per
// partition; flush() sends every pending batch to its partition's leader (one
// Produce request per leader) and retries the batches whose leader moved after
// refreshing the metadata. Not idempotent: a batch whose answer was lost may
// be written twice, as with a Kafka producer that has enable.idempotence off.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/kafka_client.h"
#include "client/partitioner.h"
#include "kafka/protocol/record_batch.h"

namespace dmq::client {

struct ProducerStats {
  int64_t records = 0;
  int64_t batches = 0;
  int64_t bytes = 0;  // batch bytes sent, after compression
};

class BatchProducer {
 public:
  BatchProducer(KafkaClient& client, const TopicInfo& topic, int16_t acks,
                kafka::Compression compression, std::optional<int32_t> partition);

  void add(std::optional<std::string_view> key, std::string_view value,
           const std::vector<kafka::RecordHeader>& headers);
  int64_t pending() const { return pending_; }
  void flush();
  const ProducerStats& stats() const { return stats_; }

 private:
  // Sends the batches of `partitions` led by `leader`; partitions to retry are
  // added to `retry`.
  void send_to(int32_t leader, const std::vector<int32_t>& partitions, std::vector<int32_t>& retry);

  KafkaClient& client_;
  std::string topic_;
  int16_t acks_;
  kafka::Compression compression_;
  Partitioner partitioner_;
  std::map<int32_t, kafka::RecordBatchBuilder> open_;
  std::map<int32_t, std::string> ready_;  // built (and compressed) batches to send
  int64_t pending_ = 0;
  ProducerStats stats_;
};

}  // namespace dmq::client
