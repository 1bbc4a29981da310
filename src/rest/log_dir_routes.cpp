#include "rest/log_dir_routes.h"

#include <chrono>
#include <string>
#include <vector>

#include "rest/record_json.h"

namespace dmq::rest {
namespace {

struct LogDirView {
  broker::LogDirUsage usage;
  std::vector<broker::HostedReplica> replicas;
};

std::string replica_json(const broker::HostedReplica& r) {
  return "{\"topic\":" + json_string(r.partition.topic) +
         ",\"partition\":" + std::to_string(r.partition.partition.value) +
         ",\"size_bytes\":" + std::to_string(r.size_bytes) +
         ",\"offset_lag\":" + std::to_string(r.offset_lag) +
         ",\"leader\":" + (r.leader ? "true" : "false") +
         ",\"log_start_offset\":" + std::to_string(r.log_start_offset.value) +
         ",\"log_end_offset\":" + std::to_string(r.log_end_offset.value) +
         ",\"high_watermark\":" + std::to_string(r.high_watermark.value) + "}";
}

std::string log_dir_json(const LogDirView& v) {
  std::string j = "{\"path\":" + json_string(v.usage.path) +
                  ",\"total_bytes\":" + std::to_string(v.usage.total_bytes) +
                  ",\"usable_bytes\":" + std::to_string(v.usage.usable_bytes) + ",\"error\":" +
                  (v.usage.error == kafka::ErrorCode::kNone ? "null" : "\"kafka_storage_error\"") +
                  ",\"partitions\":[";
  for (size_t i = 0; i < v.replicas.size(); ++i) j += (i ? "," : "") + replica_json(v.replicas[i]);
  return j + "]}";
}

}  // namespace

void register_log_dir_routes(net::HttpServer& http, net::EventLoop& loop, broker::Backend* backend,
                             int32_t self_id) {
  http.get("/v1/log-dirs", [&loop, backend, self_id](const httplib::Request&) {
    const std::string head = "{\"node_id\":" + std::to_string(self_id) + ",\"log_dirs\":[";
    if (!backend) return net::HttpResponse{200, head + "]}"};
    auto view = loop.call(
        [backend] {
          return LogDirView{backend->log_dir_usage(), backend->hosted_replicas()};
        },
        std::chrono::milliseconds(5000));
    if (!view) return net::json_error(503, "request_timed_out", "the node did not answer in time");
    return net::HttpResponse{200, head + log_dir_json(*view) + "]}"};
  });
}

}  // namespace dmq::rest
