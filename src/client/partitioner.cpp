#include "client/partitioner.h"

namespace dmq::client {

int32_t Partitioner::choose(std::optional<std::string_view> key) const {
  if (fixed_) return *fixed_;
  if (key) return kafka::partition_for_key(*key, partitions_);
  return static_cast<int32_t>(sticky_);
}

}  // namespace dmq::client
