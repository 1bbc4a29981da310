#pragma once
// ConnectionLimits: Kafka's max.connections (the broker's Kafka connections
// over every listener) and max.connections.per.ip, with
// max.connections.per.ip.overrides (per address). As in Kafka's
// ConnectionQuotas, a connection over a limit is accepted and closed at once:
// the client sees the socket close and retries with its backoff.
//
// Pure bookkeeping, no sockets. Ownership: the kafka::Service; shared by
// every listener. Threads: the event loop only.

#include <cstdint>
#include <map>
#include <string>

namespace dmq::kafka {

class ConnectionLimits {
 public:
  enum class Verdict { kAdmitted, kOverTotal, kOverPerIp };

  ConnectionLimits(int32_t max_total, int32_t max_per_ip,
                   std::map<std::string, int32_t> per_ip_overrides)
      : max_total_(max_total), max_per_ip_(max_per_ip), overrides_(std::move(per_ip_overrides)) {}

  // Counts a new connection from `ip` when both limits allow it; nothing is
  // counted otherwise.
  Verdict admit(const std::string& ip);
  // Ends a connection that admit() counted.
  void release(const std::string& ip);

  int64_t total() const { return total_; }
  int32_t limit_for(const std::string& ip) const;

 private:
  const int32_t max_total_;
  const int32_t max_per_ip_;
  const std::map<std::string, int32_t> overrides_;
  int64_t total_ = 0;
  std::map<std::string, int32_t> per_ip_;
};

}  // namespace dmq::kafka
