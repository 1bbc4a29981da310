#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

constexpr std::chrono::milliseconds kGoneWait{5000};

struct DeleteState {
  ExchangePtr ex;
  DeleteTopicsResponse resp;
  std::vector<std::string> deleted;
  int pending = 1;
  ErrorCode first_error = ErrorCode::kNone;
};

void finish(HandlerContext& ctx, const std::shared_ptr<DeleteState>& st) {
  const auto& req = std::get<DeleteTopicsRequest>(st->ex->request.body);
  if (st->deleted.empty()) {
    st->ex->respond(make_response(*st->ex, st->resp, st->first_error));
    return;
  }
  auto names = st->deleted;
  auto wait = std::min(kGoneWait, std::chrono::milliseconds(std::max(req.timeout_ms, 0)));
  ctx.backend.wait_for_metadata(
      [names](const cluster::MetadataImage& image) {
        for (const auto& n : names)
          if (image.topics.count(n)) return false;
        return true;
      },
      wait, [st](bool) { st->ex->respond(make_response(*st->ex, st->resp, st->first_error)); });
}

}  // namespace

void handle_delete_topics(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<DeleteTopicsRequest>(ex->request.body);
  auto st = std::make_shared<DeleteState>();
  st->ex = ex;
  // v1-5 name topics in topic_names; v6 in topics (by name or by id).
  std::vector<std::optional<std::string_view>> names;
  std::vector<Uuid> ids;
  for (auto n : req.topic_names) {
    names.emplace_back(n);
    ids.emplace_back();
  }
  for (const auto& t : req.topics) {
    names.push_back(t.name);
    ids.push_back(t.topic_id);
  }
  st->resp.responses.resize(names.size());
  const AccessCheck access(*ex);
  for (size_t i = 0; i < names.size(); ++i) {
    auto& out = st->resp.responses[i];
    out.topic_id = ids[i];
    if (!names[i]) {
      out.error_code = ErrorCode::kUnknownTopicId;  // deletion by id is not served
      if (st->first_error == ErrorCode::kNone) st->first_error = out.error_code;
      continue;
    }
    out.name = std::string(*names[i]);
    if (!access.topic(AclOperation::kDelete, *out.name)) {
      out.error_code = ErrorCode::kTopicAuthorizationFailed;
      if (st->first_error == ErrorCode::kNone) st->first_error = out.error_code;
      continue;
    }
    ++st->pending;
    HandlerContext* c = &ctx;
    ctx.controller.delete_topic(*out.name, [c, st, i](const broker::AdminResult& r) {
      auto& o = st->resp.responses[i];
      if (ErrorCode e = admin_error(r); e != ErrorCode::kNone) {
        o.error_code = e;
        o.error_message = r.message;
        if (st->first_error == ErrorCode::kNone) st->first_error = e;
      } else {
        st->deleted.push_back(*o.name);
      }
      if (--st->pending == 0) finish(*c, st);
    });
  }
  if (--st->pending == 0) finish(ctx, st);
}

}  // namespace dmq::kafka
