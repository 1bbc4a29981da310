#pragma once
// Big-endian primitive encoding shared by records, table values and snapshots
// (the formats themselves are described in record_format.h).
//
// ByteReader treats its input as untrusted: every read is bounds-checked and a
// failure is sticky (later reads return zeros), so a decoder reads all fields
// and checks ok() once. Counts are checked against the bytes left, so a
// malformed length never triggers a huge allocation or loop.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/types.h"
#include "common/big_endian.h"
#include "quota/quota.h"

namespace dmq::cluster {

// The fixed-width integers come from common/big_endian.h; this adds the
// cluster formats' booleans, length-prefixed strings and counts.
class ByteWriter : public BigEndianWriter {
 public:
  void boolean(bool v) { u8(v ? 1 : 0); }
  // u32 length then bytes.
  void str(std::string_view s);
};

class ByteReader : public BigEndianReader {
 public:
  using BigEndianReader::BigEndianReader;
  bool boolean();  // only 0 or 1 are valid
  std::string str(size_t max_bytes = kMaxString);
  // An element count; fails if it could not fit in the bytes left, given that
  // each element takes at least min_element_bytes.
  uint32_t count(size_t min_element_bytes);

  static constexpr size_t kMaxString = size_t{1} << 20;
};

// Composite values shared by records and table values: a u32 count then the
// items. Config keys must be strictly ascending on decode: the encoding is
// canonical, so equal images always have equal bytes.
void put_broker_ids(ByteWriter& w, const std::vector<BrokerId>& ids);
std::vector<BrokerId> get_broker_ids(ByteReader& r);
void put_config_map(ByteWriter& w, const std::map<std::string, std::string>& configs);
std::map<std::string, std::string> get_config_map(ByteReader& r);
// Each listener: name, host, u16 port, security protocol.
void put_broker_listeners(ByteWriter& w, const std::vector<BrokerListener>& listeners);
std::vector<BrokerListener> get_broker_listeners(ByteReader& r);
// A double as its IEEE-754 bits in a u64.
void put_double(ByteWriter& w, double v);
double get_double(ByteReader& r);
// A quota entity: u32 count, then per component (ascending types) the type
// and an optional name (absent: the type's default).
void put_quota_entity(ByteWriter& w, const quota::Entity& entity);
quota::Entity get_quota_entity(ByteReader& r);

}  // namespace dmq::cluster
