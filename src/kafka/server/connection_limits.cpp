#include "kafka/server/connection_limits.h"

#include "common/assert.h"

namespace dmq::kafka {

int32_t ConnectionLimits::limit_for(const std::string& ip) const {
  auto it = overrides_.find(ip);
  return it == overrides_.end() ? max_per_ip_ : it->second;
}

ConnectionLimits::Verdict ConnectionLimits::admit(const std::string& ip) {
  if (total_ >= max_total_) return Verdict::kOverTotal;
  auto it = per_ip_.find(ip);
  const int32_t have = it == per_ip_.end() ? 0 : it->second;
  if (have >= limit_for(ip)) return Verdict::kOverPerIp;
  ++total_;
  ++per_ip_[ip];
  return Verdict::kAdmitted;
}

void ConnectionLimits::release(const std::string& ip) {
  auto it = per_ip_.find(ip);
  DMQ_ASSERT(it != per_ip_.end());
  DMQ_ASSERT(total_ > 0);
  --total_;
  if (--it->second == 0) per_ip_.erase(it);
}

}  // namespace dmq::kafka
