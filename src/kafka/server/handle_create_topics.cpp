#include <algorithm>
#include <set>

#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

// How long CreateTopics waits for new topics to show up (with leaders) in this
// broker's metadata, so the client's next Metadata request finds them.
constexpr std::chrono::milliseconds kVisibleWait{5000};

struct CreateState {
  ExchangePtr ex;
  CreateTopicsResponse resp;
  std::vector<std::string> created;
  int pending = 1;
  ErrorCode first_error = ErrorCode::kNone;
};

void set_error(CreateState& st, CreateTopicsResponse::Topic& out, ErrorCode e, std::string msg) {
  out.error_code = e;
  out.error_message = std::move(msg);
  if (st.first_error == ErrorCode::kNone) st.first_error = e;
}

bool all_visible(const std::vector<std::string>& names, const cluster::MetadataImage& image) {
  for (const auto& n : names) {
    auto it = image.topics.find(n);
    if (it == image.topics.end()) return false;
    for (const auto& p : it->second.partitions)
      if (p.leader == cluster::kNoLeader) return false;
  }
  return true;
}

void finish(HandlerContext& ctx, const std::shared_ptr<CreateState>& st) {
  const auto& req = std::get<CreateTopicsRequest>(st->ex->request.body);
  if (st->created.empty()) {
    st->ex->respond(make_response(*st->ex, st->resp, st->first_error));
    return;
  }
  auto wait = std::min(kVisibleWait, std::chrono::milliseconds(std::max(req.timeout_ms, 0)));
  auto names = st->created;
  ctx.backend.wait_for_metadata(
      [names](const cluster::MetadataImage& image) { return all_visible(names, image); }, wait,
      [st](bool) { st->ex->respond(make_response(*st->ex, st->resp, st->first_error)); });
}

// Checks what Kafka checks before asking the controller; "" when fine.
ErrorCode precheck(const CreateTopicsRequest::Topic& t, std::string* why) {
  if (!valid_topic_name(t.name)) {
    *why = "topic names use [a-zA-Z0-9._-], at most 249 characters, not '.' or '..'";
    return ErrorCode::kInvalidTopicException;
  }
  if (!t.assignments.empty()) {
    *why = "manual replica assignment is not supported; give num_partitions and replication_factor";
    return ErrorCode::kInvalidRequest;
  }
  if (t.num_partitions == 0 || t.num_partitions < -1) {
    *why = "num_partitions must be at least 1";
    return ErrorCode::kInvalidPartitions;
  }
  if (t.replication_factor == 0 || t.replication_factor < -1) {
    *why = "replication_factor must be at least 1";
    return ErrorCode::kInvalidReplicationFactor;
  }
  return ErrorCode::kNone;
}

}  // namespace

void handle_create_topics(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<CreateTopicsRequest>(ex->request.body);
  auto st = std::make_shared<CreateState>();
  st->ex = ex;
  st->resp.topics.resize(req.topics.size());
  std::map<std::string_view, int> counts;
  for (const auto& t : req.topics) ++counts[t.name];
  const AccessCheck access(*ex);
  const bool may_create_any = access.cluster(AclOperation::kCreate);
  for (size_t i = 0; i < req.topics.size(); ++i) {
    const auto& t = req.topics[i];
    auto& out = st->resp.topics[i];
    out.name = std::string(t.name);
    std::string why;
    ErrorCode e = counts[t.name] > 1 ? ErrorCode::kInvalidRequest : precheck(t, &why);
    if (e == ErrorCode::kNone && !may_create_any && !access.topic(AclOperation::kCreate, t.name)) {
      e = ErrorCode::kTopicAuthorizationFailed;  // Kafka: CREATE on the cluster or the topic
      why = "not authorized to create this topic";
    }
    if (e != ErrorCode::kNone) {
      set_error(*st, out, e, why.empty() ? "topic named more than once" : why);
      continue;
    }
    broker::TopicSpec spec;
    spec.name = out.name;
    spec.partitions = t.num_partitions == -1 ? ctx.options.num_partitions : t.num_partitions;
    spec.replication_factor =
        t.replication_factor == -1 ? ctx.options.default_replication_factor : t.replication_factor;
    for (const auto& c : t.configs)
      if (c.value) spec.configs[std::string(c.name)] = std::string(*c.value);
    out.num_partitions = spec.partitions;
    out.replication_factor = spec.replication_factor;
    ++st->pending;
    HandlerContext* c = &ctx;
    ctx.controller.create_topic(spec, req.validate_only, [c, st, i](const broker::AdminResult& r) {
      auto& o = st->resp.topics[i];
      const auto& rq = std::get<CreateTopicsRequest>(st->ex->request.body);
      if (ErrorCode e = admin_error(r); e != ErrorCode::kNone) {
        set_error(*st, o, e, r.message);
      } else if (!rq.validate_only) {
        st->created.push_back(o.name);
      }
      if (--st->pending == 0) finish(*c, st);
    });
  }
  if (--st->pending == 0) finish(ctx, st);
}

}  // namespace dmq::kafka
