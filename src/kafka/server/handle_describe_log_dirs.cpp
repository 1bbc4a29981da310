#include <map>

#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

using Wanted = std::map<std::string, std::set<int32_t>, std::less<>>;

bool is_wanted(const std::optional<Wanted>& wanted, const TopicPartition& tp) {
  if (!wanted) return true;
  auto it = wanted->find(tp.topic);
  return it != wanted->end() && it->second.count(tp.partition.value) != 0;
}

}  // namespace

// DescribeLogDirs (KIP-113): DMQ keeps every partition log of a node under
// one directory (<data-dir>/logs), so the answer names one log dir with the
// hosted replicas the request asks for (null topics: all of them); a
// partition not hosted here is left out, as Kafka does. Never a future log:
// replicas do not move between directories.
void handle_describe_log_dirs(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<DescribeLogDirsRequest>(ex->request.body);
  if (!AccessCheck(*ex).cluster(AclOperation::kDescribe)) {
    ex->respond(make_error(*ex, ErrorCode::kClusterAuthorizationFailed));
    return;
  }
  std::optional<Wanted> wanted;
  if (req.topics) {
    wanted.emplace();
    for (const auto& t : *req.topics)
      (*wanted)[std::string(t.topic)].insert(t.partitions.begin(), t.partitions.end());
  }
  const LogDirUsage usage = ctx.backend.log_dir_usage();
  DescribeLogDirsResponse resp;
  auto& dir = resp.results.emplace_back();
  dir.error_code = usage.error;
  dir.log_dir = usage.path;
  dir.total_bytes = usage.total_bytes;
  dir.usable_bytes = usage.usable_bytes;
  for (const HostedReplica& r : ctx.backend.hosted_replicas()) {  // by topic, then partition
    if (!is_wanted(wanted, r.partition)) continue;
    if (dir.topics.empty() || dir.topics.back().name != r.partition.topic)
      dir.topics.emplace_back().name = r.partition.topic;
    dir.topics.back().partitions.push_back(
        {r.partition.partition.value, static_cast<int64_t>(r.size_bytes), r.offset_lag, false});
  }
  ex->respond(make_response(*ex, resp, usage.error));
}

}  // namespace dmq::kafka
