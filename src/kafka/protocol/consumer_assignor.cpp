#include "kafka/protocol/consumer_assignor.h"

#include <algorithm>
#include <set>

namespace dmq::kafka {
namespace {

void put_i16(std::string& out, int16_t v) {
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

void put_i32(std::string& out, int32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void put_string(std::string& out, std::string_view s) {
  put_i16(out, static_cast<int16_t>(s.size()));
  out += s;
}

std::vector<AssignorMember> sorted_by_id(std::vector<AssignorMember> members) {
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.member_id < b.member_id; });
  return members;
}

struct ConsumerBytesReader {  // big-endian, bounded by the bytes left
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

bool subscribed(const AssignorMember& m, const std::string& topic) {
  return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
}

void assign_range(const std::vector<AssignorMember>& members,
                  const std::map<std::string, int32_t>& counts,
                  std::map<std::string, PartitionsByTopic>& out) {
  for (const auto& [topic, count] : counts) {
    std::vector<const AssignorMember*> subscribers;
    for (const auto& m : members)
      if (subscribed(m, topic)) subscribers.push_back(&m);
    if (subscribers.empty()) continue;
    const int32_t n = static_cast<int32_t>(subscribers.size());
    int32_t next = 0;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t take = count / n + (i < count % n ? 1 : 0);
      auto& list = out[subscribers[static_cast<size_t>(i)]->member_id][topic];
      for (int32_t k = 0; k < take; ++k) list.push_back(next++);
      if (list.empty()) out[subscribers[static_cast<size_t>(i)]->member_id].erase(topic);
    }
  }
}

void assign_round_robin(const std::vector<AssignorMember>& members,
                        const std::map<std::string, int32_t>& counts,
                        std::map<std::string, PartitionsByTopic>& out) {
  size_t turn = 0;
  for (const auto& [topic, count] : counts) {
    for (int32_t p = 0; p < count; ++p) {
      // The next member in the circle that subscribes to `topic`.
      for (size_t tried = 0; tried < members.size(); ++tried) {
        const auto& m = members[turn++ % members.size()];
        if (!subscribed(m, topic)) continue;
        out[m.member_id][topic].push_back(p);
        break;
      }
    }
  }
}

}  // namespace

std::string encode_consumer_subscription(const std::vector<std::string>& topics) {
  std::string out;
  put_i16(out, 0);  // version
  put_i32(out, static_cast<int32_t>(topics.size()));
  for (const auto& t : topics) put_string(out, t);
  put_i32(out, -1);  // user data: null
  return out;
}

std::string encode_consumer_assignment(const PartitionsByTopic& partitions) {
  std::string out;
  put_i16(out, 0);  // version
  put_i32(out, static_cast<int32_t>(partitions.size()));
  for (const auto& [topic, list] : partitions) {
    put_string(out, topic);
    put_i32(out, static_cast<int32_t>(list.size()));
    for (int32_t p : list) put_i32(out, p);
  }
  put_i32(out, -1);  // user data: null
  return out;
}

std::optional<std::vector<std::string>> decode_consumer_subscription(std::string_view bytes) {
  ConsumerBytesReader r{bytes};
  if (r.be(2) < 0) return std::nullopt;
  int32_t n = r.count(2);
  std::vector<std::string> topics;
  for (int32_t i = 0; i < n && r.ok; ++i) topics.push_back(r.str());
  if (!r.ok) return std::nullopt;
  return topics;
}

std::optional<PartitionsByTopic> decode_consumer_assignment(std::string_view bytes) {
  ConsumerBytesReader r{bytes};
  if (r.be(2) < 0) return std::nullopt;
  int32_t n = r.count(6);
  PartitionsByTopic out;
  for (int32_t i = 0; i < n && r.ok; ++i) {
    std::string topic = r.str();
    int32_t m = r.count(4);
    auto& list = out[topic];
    for (int32_t k = 0; k < m && r.ok; ++k) list.push_back(static_cast<int32_t>(r.be(4)));
  }
  if (!r.ok) return std::nullopt;
  return out;
}

std::map<std::string, PartitionsByTopic> assign_partitions(
    std::string_view protocol, const std::vector<AssignorMember>& members,
    const std::map<std::string, int32_t>& partition_counts) {
  std::map<std::string, PartitionsByTopic> out;
  const auto ordered = sorted_by_id(members);
  for (const auto& m : ordered) out[m.member_id];
  if (ordered.empty()) return out;
  if (protocol == "roundrobin") {
    assign_round_robin(ordered, partition_counts, out);
  } else {
    assign_range(ordered, partition_counts, out);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> leader_assignments(
    std::string_view protocol, const std::vector<JoinGroupResponse::Member>& members,
    const std::map<std::string, int32_t>& partition_counts) {
  std::vector<AssignorMember> subscriptions;
  for (const auto& m : members) {
    auto topics = decode_consumer_subscription(m.metadata);
    subscriptions.push_back({m.member_id, topics.value_or(std::vector<std::string>{})});
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [member, partitions] :
       assign_partitions(protocol, subscriptions, partition_counts))
    out.emplace_back(member, encode_consumer_assignment(partitions));
  return out;
}

}  // namespace dmq::kafka
