#include "group/consumer_protocol.h"

#include <cstdint>

namespace dmq::group {
namespace {

struct Reader {
  std::string_view rest;
  bool ok = true;
  int64_t be(size_t n) {
    if (!ok || rest.size() < n) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(rest[i]);
    rest.remove_prefix(n);
    return n == 2 ? static_cast<int16_t>(v) : static_cast<int32_t>(v);
  }
  std::string str() {
    int64_t n = be(2);
    if (!ok || n < 0 || rest.size() < static_cast<size_t>(n)) {
      ok = false;
      return {};
    }
    std::string s(rest.substr(0, static_cast<size_t>(n)));
    rest.remove_prefix(static_cast<size_t>(n));
    return s;
  }
  // An array count that cannot exceed the bytes left (each item >= `min_item` bytes).
  int32_t count(size_t min_item) {
    int64_t n = be(4);
    if (!ok || n < 0 || static_cast<size_t>(n) * min_item > rest.size()) {
      ok = false;
      return 0;
    }
    return static_cast<int32_t>(n);
  }
};

}  // namespace

std::optional<std::vector<std::string>> decode_subscription_topics(std::string_view bytes) {
  Reader r{bytes};
  if (r.be(2) < 0) return std::nullopt;
  int32_t n = r.count(2);
  std::vector<std::string> topics;
  for (int32_t i = 0; i < n && r.ok; ++i) topics.push_back(r.str());
  if (!r.ok) return std::nullopt;
  return topics;
}

std::optional<std::vector<TopicPartition>> decode_assignment(std::string_view bytes) {
  Reader r{bytes};
  if (r.be(2) < 0) return std::nullopt;
  int32_t n = r.count(6);
  std::vector<TopicPartition> out;
  for (int32_t i = 0; i < n && r.ok; ++i) {
    std::string topic = r.str();
    int32_t m = r.count(4);
    for (int32_t k = 0; k < m && r.ok; ++k) {
      out.push_back(TopicPartition{topic, static_cast<int32_t>(r.be(4))});
    }
  }
  if (!r.ok) return std::nullopt;
  return out;
}

}  // namespace dmq::group
