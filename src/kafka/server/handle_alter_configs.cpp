// AlterConfigs (v0-2) and IncrementalAlterConfigs (v0-1) for topic configs:
// each resource becomes one ConfigChangeRecord through the controller, and
// the answer waits until this broker's metadata shows the change, so a
// DescribeConfigs right after sees it. Broker configs are refused per
// resource with INVALID_REQUEST (they are static options in DMQ).
#include <algorithm>
#include <sstream>

#include "kafka/server/authorize.h"
#include "kafka/server/handlers.h"

namespace dmq::kafka {
namespace {

constexpr int8_t kResourceTopic = 2;
constexpr std::chrono::milliseconds kVisibleWait{5000};
enum class Op : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };

using Changes = std::map<std::string, std::optional<std::string>>;

struct AlterState {
  ExchangePtr ex;
  std::vector<AlterConfigsResourceResponse> responses;
  std::vector<std::pair<std::string, Changes>> applied;
  int pending = 1;
  ErrorCode first_error = ErrorCode::kNone;
};

void set_error(AlterState& st, size_t i, ErrorCode e, std::string message) {
  st.responses[i].error_code = e;
  st.responses[i].error_message = std::move(message);
  if (st.first_error == ErrorCode::kNone) st.first_error = e;
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream in(v);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// AlterConfigs: the request's set replaces every dynamic config of the topic.
bool plan(const AlterConfigsRequest::Resource& r, const cluster::ConfigMap& current, Changes& out,
          std::string&) {
  for (const auto& [key, value] : current) out[key] = std::nullopt;
  for (const auto& c : r.configs) {
    out[std::string(c.name)] =
        c.value ? std::optional<std::string>(std::string(*c.value)) : std::nullopt;
  }
  return true;
}

// IncrementalAlterConfigs: SET and DELETE single keys; APPEND and SUBTRACT
// items of a comma-separated list value.
bool plan(const IncrementalAlterConfigsRequest::Resource& r, const cluster::ConfigMap& current,
          Changes& out, std::string& error) {
  for (const auto& c : r.configs) {
    std::string key(c.name);
    const auto op = static_cast<Op>(c.config_operation);
    if (op == Op::kDelete) {
      out[key] = std::nullopt;
      continue;
    }
    if (!c.value) {
      error = "config " + key + " needs a value for this operation";
      return false;
    }
    std::string value(*c.value);
    if (op == Op::kSet) {
      out[key] = value;
      continue;
    }
    if (op != Op::kAppend && op != Op::kSubtract) {
      error = "unknown config operation " + std::to_string(c.config_operation);
      return false;
    }
    auto it = current.find(key);
    auto items = split_list(it == current.end() ? "" : it->second);
    for (const auto& item : split_list(value)) {
      auto pos = std::find(items.begin(), items.end(), item);
      if (op == Op::kAppend && pos == items.end()) items.push_back(item);
      if (op == Op::kSubtract && pos != items.end()) items.erase(pos);
    }
    out[key] = join_list(items);
  }
  return true;
}

bool visible(const cluster::MetadataImage& image, const std::string& topic, const Changes& ch) {
  auto it = image.topics.find(topic);
  if (it == image.topics.end()) return true;  // deleted meanwhile: nothing to wait for
  for (const auto& [key, value] : ch) {
    auto c = it->second.configs.find(key);
    if (value ? (c == it->second.configs.end() || c->second != *value)
              : c != it->second.configs.end())
      return false;
  }
  return true;
}

template <class Resp>
void finish(HandlerContext& ctx, const std::shared_ptr<AlterState>& st) {
  auto respond = [st](bool) {
    Resp resp;
    resp.responses = std::move(st->responses);
    st->ex->respond(make_response(*st->ex, resp, st->first_error));
  };
  if (st->applied.empty()) return respond(true);
  auto applied = st->applied;
  ctx.backend.wait_for_metadata(
      [applied](const cluster::MetadataImage& image) {
        return std::all_of(applied.begin(), applied.end(),
                           [&](const auto& a) { return visible(image, a.first, a.second); });
      },
      kVisibleWait, respond);
}

template <class Req, class Resp>
void alter(HandlerContext& ctx, const ExchangePtr& ex) {
  const auto& req = std::get<Req>(ex->request.body);
  auto st = std::make_shared<AlterState>();
  st->ex = ex;
  st->responses.resize(req.resources.size());
  auto image = ctx.backend.metadata();
  const AccessCheck access(*ex);
  HandlerContext* c = &ctx;
  for (size_t i = 0; i < req.resources.size(); ++i) {
    const auto& r = req.resources[i];
    st->responses[i].resource_type = r.resource_type;
    st->responses[i].resource_name = std::string(r.resource_name);
    // Kafka's AuthHelper: ALTER_CONFIGS on the topic (or on the cluster for
    // broker resources, which DMQ refuses anyway).
    const bool may = r.resource_type == kResourceTopic
                         ? access.topic(AclOperation::kAlterConfigs, r.resource_name)
                         : access.cluster(AclOperation::kAlterConfigs);
    if (!may) {
      set_error(*st, i,
                r.resource_type == kResourceTopic ? ErrorCode::kTopicAuthorizationFailed
                                                  : ErrorCode::kClusterAuthorizationFailed,
                "not authorized to alter configs");
      continue;
    }
    if (r.resource_type != kResourceTopic) {
      set_error(*st, i, ErrorCode::kInvalidRequest,
                "only topic configs can be changed; broker configs are static options");
      continue;
    }
    auto topic = image->topics.find(r.resource_name);
    if (topic == image->topics.end()) {
      set_error(*st, i, ErrorCode::kUnknownTopicOrPartition, "unknown topic");
      continue;
    }
    Changes changes;
    std::string error;
    if (!plan(r, topic->second.configs, changes, error)) {
      set_error(*st, i, ErrorCode::kInvalidRequest, error);
      continue;
    }
    if (changes.empty()) continue;
    ++st->pending;
    std::string name(r.resource_name);
    ctx.controller.alter_topic_configs(
        name, changes, req.validate_only,
        [c, st, i, name, changes, validate = req.validate_only](const broker::AdminResult& res) {
          if (ErrorCode e = admin_error(res); e != ErrorCode::kNone)
            set_error(*st, i, e, res.message);
          else if (!validate)
            st->applied.emplace_back(name, changes);
          if (--st->pending == 0) finish<Resp>(*c, st);
        });
  }
  if (--st->pending == 0) finish<Resp>(ctx, st);
}

}  // namespace

void handle_alter_configs(HandlerContext& ctx, const ExchangePtr& ex) {
  alter<AlterConfigsRequest, AlterConfigsResponse>(ctx, ex);
}

void handle_incremental_alter_configs(HandlerContext& ctx, const ExchangePtr& ex) {
  alter<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(ctx, ex);
}

}  // namespace dmq::kafka
