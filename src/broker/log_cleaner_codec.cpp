#include "broker/log_cleaner_codec.h"

#include "kafka/protocol/record_filter.h"
#include "kafka/protocol/record_walk.h"

namespace dmq::broker {
namespace {

store::CleanerRecord cleaner_view(int64_t offset, const kafka::Record& r) {
  return store::CleanerRecord{store::Offset(offset), r.key, !r.value.has_value()};
}

}  // namespace

bool KafkaRecordCodec::for_each_record(
    std::string_view batch, const std::function<void(const store::CleanerRecord&)>& visit,
    std::string* error) const {
  kafka::RecordWalk walk = kafka::walk_records(batch, 0, [&](const kafka::RecordInLog& r) {
    visit(cleaner_view(r.offset, r.record));
    return true;
  });
  if (walk.error != kafka::BatchError::kOk)
    *error = std::string(kafka::batch_error_name(walk.error));
  return walk.error == kafka::BatchError::kOk;
}

bool KafkaRecordCodec::filter(std::string_view batch,
                              const std::function<bool(const store::CleanerRecord&)>& keep,
                              std::string* out, int32_t* kept, std::string* error) const {
  kafka::BatchError e = kafka::filter_records(
      batch, [&](int64_t offset, const kafka::Record& r) { return keep(cleaner_view(offset, r)); },
      *out, kept);
  if (e != kafka::BatchError::kOk) *error = std::string(kafka::batch_error_name(e));
  return e == kafka::BatchError::kOk;
}

const store::RecordCodec& kafka_record_codec() {
  static const KafkaRecordCodec codec;
  return codec;
}

}  // namespace dmq::broker
