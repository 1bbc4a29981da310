#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

constexpr std::chrono::milliseconds kVisibleWait{5000};

struct GrowState {
  ExchangePtr ex;
  CreatePartitionsResponse resp;
  std::vector<std::pair<std::string, int32_t>> grown;  // topic, new count
  int pending = 1;
  ErrorCode first_error = ErrorCode::kNone;
};

void set_error(GrowState& st, CreatePartitionsResponse::Result& out, ErrorCode e, std::string m) {
  out.error_code = e;
  out.error_message = std::move(m);
  if (st.first_error == ErrorCode::kNone) st.first_error = e;
}

void finish(HandlerContext& ctx, const std::shared_ptr<GrowState>& st) {
  const auto& req = std::get<CreatePartitionsRequest>(st->ex->request.body);
  if (st->grown.empty()) {
    st->ex->respond(make_response(*st->ex, st->resp, st->first_error));
    return;
  }
  auto grown = st->grown;
  auto wait = std::min(kVisibleWait, std::chrono::milliseconds(std::max(req.timeout_ms, 0)));
  ctx.backend.wait_for_metadata(
      [grown](const cluster::MetadataImage& image) {
        for (const auto& [name, count] : grown) {
          auto it = image.topics.find(name);
          if (it == image.topics.end() || it->second.partitions.size() < static_cast<size_t>(count))
            return false;
        }
        return true;
      },
      wait, [st](bool) { st->ex->respond(make_response(*st->ex, st->resp, st->first_error)); });
}

}  // namespace

void handle_create_partitions(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<CreatePartitionsRequest>(ex->request.body);
  auto st = std::make_shared<GrowState>();
  st->ex = ex;
  st->resp.results.resize(req.topics.size());
  auto image = ctx.backend.metadata();
  const AccessCheck access(*ex);
  for (size_t i = 0; i < req.topics.size(); ++i) {
    const auto& t = req.topics[i];
    auto& out = st->resp.results[i];
    out.name = std::string(t.name);
    if (!access.topic(AclOperation::kAlter, t.name)) {
      set_error(*st, out, ErrorCode::kTopicAuthorizationFailed,
                "not authorized to alter this topic");
      continue;
    }
    if (t.assignments) {
      set_error(*st, out, ErrorCode::kInvalidReplicaAssignment,
                "manual replica assignment is not supported");
      continue;
    }
    auto it = image->topics.find(t.name);
    if (it == image->topics.end()) {
      set_error(*st, out, ErrorCode::kUnknownTopicOrPartition, "unknown topic");
      continue;
    }
    if (t.count <= static_cast<int32_t>(it->second.partitions.size())) {
      set_error(*st, out, ErrorCode::kInvalidPartitions,
                "topic already has " + std::to_string(it->second.partitions.size()) +
                    " partitions; the count can only grow");
      continue;
    }
    ++st->pending;
    HandlerContext* c = &ctx;
    int32_t count = t.count;
    ctx.controller.create_partitions(
        out.name, count, req.validate_only, [c, st, i, count](const broker::AdminResult& r) {
          auto& o = st->resp.results[i];
          const auto& rq = std::get<CreatePartitionsRequest>(st->ex->request.body);
          if (ErrorCode e = admin_error(r); e != ErrorCode::kNone)
            set_error(*st, o, e, r.message);
          else if (!rq.validate_only)
            st->grown.emplace_back(o.name, count);
          if (--st->pending == 0) finish(*c, st);
        });
  }
  if (--st->pending == 0) finish(ctx, st);
}

}  // namespace dmq::kafka
