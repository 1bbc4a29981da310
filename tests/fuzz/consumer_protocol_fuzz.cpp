// The "consumer" protocol readers on arbitrary bytes (JoinGroup metadata and
// SyncGroup / DescribeGroups assignments come from any group member): never
// crash, and whatever they accept encodes back to bytes they read the same.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kafka/protocol/consumer_assignor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto topics = dmq::kafka::decode_consumer_subscription(bytes)) {
    auto again =
        dmq::kafka::decode_consumer_subscription(dmq::kafka::encode_consumer_subscription(*topics));
    if (!again || *again != *topics) std::abort();
  }
  if (auto assigned = dmq::kafka::decode_consumer_assignment(bytes)) {
    auto again =
        dmq::kafka::decode_consumer_assignment(dmq::kafka::encode_consumer_assignment(*assigned));
    if (!again || *again != *assigned) std::abort();
  }
  return 0;
}
