#include "client/producer.h"

#include "client/output.h"
#include "client/records.h"

namespace dmq::client {

using kafka::ErrorCode;

BatchProducer::BatchProducer(KafkaClient& client, const TopicInfo& topic, int16_t acks,
                             kafka::Compression compression, std::optional<int32_t> partition)
    : client_(client),
      topic_(topic.name),
      acks_(acks),
      compression_(compression),
      partitioner_(static_cast<int32_t>(topic.partitions.size()), partition,
                   static_cast<uint32_t>(monotonic_us())) {}

void BatchProducer::add(std::optional<std::string_view> key, std::string_view value,
                        const std::vector<kafka::RecordHeader>& headers) {
  int32_t p = partitioner_.choose(key);
  open_[p].add(wall_clock_ms(), key, value, headers);
  ++pending_;
}

void BatchProducer::flush() {
  for (auto& [p, builder] : open_) {
    if (builder.record_count() == 0) continue;
    ready_[p] = compress_batch(builder.build(), compression_);
    stats_.records += builder.record_count();
  }
  open_.clear();
  pending_ = 0;
  partitioner_.next_batch();
  std::vector<int32_t> todo;
  for (const auto& [p, batch] : ready_) todo.push_back(p);
  for (int attempt = 1; !todo.empty(); ++attempt) {
    std::vector<int32_t> retry;
    auto routes = client_.cluster().by_leader(topic_, todo, &retry);
    for (const auto& [leader, partitions] : routes) {
      try {
        send_to(leader, partitions, retry);
      } catch (const BrokerUnavailable&) {
        retry.insert(retry.end(), partitions.begin(), partitions.end());
      }
    }
    todo = retry;
    if (!todo.empty()) {
      client_.backoff(attempt, "the leaders of topic '" + topic_ + "'");
      client_.refresh_metadata({topic_});
    }
  }
}

void BatchProducer::send_to(int32_t leader, const std::vector<int32_t>& partitions,
                            std::vector<int32_t>& retry) {
  kafka::ProduceRequest request;
  request.acks = acks_;
  request.timeout_ms = client_.config().request_timeout_ms;
  auto& t = request.topics.emplace_back();
  t.name = topic_;
  for (int32_t p : partitions) {
    t.partitions.push_back({p, kafka::Records::view(ready_.at(p))});
    stats_.bytes += static_cast<int64_t>(ready_.at(p).size());
    ++stats_.batches;
  }
  if (acks_ == 0) {  // the broker sends no answer at all
    client_.send(leader, versions::kProduce, request);
    for (int32_t p : partitions) ready_.erase(p);
    return;
  }
  auto response = client_.call<kafka::ProduceResponse>(leader, versions::kProduce, request);
  for (const auto& rt : response.topics) {
    for (const auto& rp : rt.partitions) {
      if (rp.error_code == ErrorCode::kNone) {
        ready_.erase(rp.index);
      } else if (is_retriable_error(rp.error_code)) {
        retry.push_back(rp.index);
      } else {
        throw ClientError("producing to " + topic_ + "/" + std::to_string(rp.index) + ": " +
                          kafka_error_name(rp.error_code) +
                          (rp.error_message ? " (" + *rp.error_message + ")" : ""));
      }
    }
  }
}

}  // namespace dmq::client
