#pragma once
// The Kafka record codec behind the store's log cleaner (store/log_cleaner.h):
// decodes (and decompresses, bounded) stored batches and rebuilds them with
// a subset of their records (kafka/protocol/record_filter.h). Stateless;
// any thread.

#include "store/log_cleaner.h"

namespace dmq::broker {

class KafkaRecordCodec : public store::RecordCodec {
 public:
  bool for_each_record(std::string_view batch,
                       const std::function<void(const store::CleanerRecord&)>& visit,
                       std::string* error) const override;
  bool filter(std::string_view batch, const std::function<bool(const store::CleanerRecord&)>& keep,
              std::string* out, int32_t* kept, std::string* error) const override;
};

// The codec every PartitionManager's cleaner uses (it has no state).
const store::RecordCodec& kafka_record_codec();

}  // namespace dmq::broker
