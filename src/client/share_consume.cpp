// `dmq consume TOPIC --share GROUP`: a share-group worker over the REST API
// (POST /v1/share-groups/{g}/fetch and /ack). Each fetched record is either
// printed with --format and accepted, or with --exec handed to a command:
// exit 0 accepts it, any other exit releases it with the command's exit
// status and the tail of its stderr as the error text (the group redelivers
// it after its backoff, and dead-letters it at the delivery limit). SIGINT
// finishes the record at hand, releases the rest of the batch and stops.

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "client/child_process.h"
#include "client/commands.h"
#include "client/error.h"
#include "client/format.h"
#include "client/interrupt.h"
#include "common/base64.h"
#include "common/url.h"

namespace dmq::client {
namespace {

constexpr int kFetchWaitMs = 1000;
constexpr int kMaxUnavailableRetries = 60;  // 503s in a row (coordinator moving) before giving up

struct ShareRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = -1;
  int32_t delivery_count = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

struct Outcome {
  const ShareRecord* record;
  const char* type;  // accept, release
  std::string error;
};

std::optional<std::string> bytes_member(const rapidjson::Value& v, const char* name,
                                        const char* flag) {
  if (!v.HasMember(name) || v[name].IsNull() || !v[name].IsString()) return std::nullopt;
  std::string text(v[name].GetString(), v[name].GetStringLength());
  if (v.HasMember(flag) && v[flag].IsString() && std::string_view(v[flag].GetString()) == "base64")
    return base64_decode(text);
  return text;
}

bool well_formed(const rapidjson::Value& r) {
  return r.IsObject() && r.HasMember("topic") && r["topic"].IsString() &&
         r.HasMember("partition") && r["partition"].IsInt() && r.HasMember("offset") &&
         r["offset"].IsInt64();
}

std::vector<ShareRecord> parse_records(const rapidjson::Value& answer) {
  if (!answer.HasMember("records") || !answer["records"].IsArray() ||
      !answer.HasMember("member_id") || !answer["member_id"].IsString())
    throw ClientError("the share fetch answer has no records or member_id");
  std::vector<ShareRecord> out;
  for (const auto& r : answer["records"].GetArray()) {
    if (!well_formed(r)) throw ClientError("the share fetch answer has a malformed record");
    ShareRecord s;
    s.topic = r["topic"].GetString();
    s.partition = r["partition"].GetInt();
    s.offset = r["offset"].GetInt64();
    if (r.HasMember("timestamp") && r["timestamp"].IsInt64())
      s.timestamp_ms = r["timestamp"].GetInt64();
    if (r.HasMember("delivery_count") && r["delivery_count"].IsInt())
      s.delivery_count = r["delivery_count"].GetInt();
    s.key = bytes_member(r, "key", "key_encoding");
    s.value = bytes_member(r, "value", "value_encoding");
    if (r.HasMember("headers") && r["headers"].IsArray()) {
      for (const auto& h : r["headers"].GetArray()) {
        if (h.IsObject() && h.HasMember("key") && h["key"].IsString())
          s.headers.emplace_back(h["key"].GetString(), bytes_member(h, "value", "encoding"));
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

class ShareWorker {
 public:
  ShareWorker(const Invocation& inv, OutputFormat format)
      : inv_(inv),
        args_(inv.consume),
        format_(std::move(format)),
        http_(host_of(inv), port_of(inv)) {
    http_.set_connection_timeout(0, inv.common.timeout_ms * 1000);
    const int read_ms = inv.common.timeout_ms + kFetchWaitMs;
    http_.set_read_timeout(read_ms / 1000, (read_ms % 1000) * 1000);
    http_.set_keep_alive(true);
  }

  void run() {
    int unavailable = 0;
    while (!stop_requested() && !done()) {
      auto batch = fetch(unavailable);
      if (batch.empty()) continue;
      std::vector<Outcome> outcomes;
      for (const auto& r : batch) {
        if (stop_requested() || done()) {
          outcomes.push_back({&r, "release", "the consumer stopped before handling it"});
        } else {
          outcomes.push_back(handle(r));
        }
      }
      acknowledge(outcomes);
    }
  }

 private:
  static std::string host_of(const Invocation& inv) {
    return parse_host_port(inv.common.http)->host;
  }
  static uint16_t port_of(const Invocation& inv) { return parse_host_port(inv.common.http)->port; }

  bool done() const { return args_.max_messages > 0 && handled_ >= args_.max_messages; }

  std::string group_path(const char* action) const {
    return "/v1/share-groups/" + encode_path_segment(args_.share_group) + "/" + action;
  }

  // POSTs `body`; the parsed answer, or nullopt after a 503 (retry later)
  // or, where `conflict_ok`, a 409 (said on stderr).
  std::optional<rapidjson::Document> post(const std::string& path, const std::string& body,
                                          int& unavailable, bool conflict_ok = false) {
    auto res = http_.Post(path.c_str(), body, "application/json");
    if (!res)
      throw ClientError("POST http://" + inv_.common.http + path +
                        " failed: " + httplib::to_string(res.error()));
    rapidjson::Document doc;
    doc.Parse(res->body.c_str());
    if (res->status == 503 && ++unavailable <= kMaxUnavailableRetries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      return std::nullopt;
    }
    if (res->status == 409 && conflict_ok) {
      // The batch's locks expired before it was acknowledged: none of it
      // counted, and the group delivers those records again.
      std::fprintf(stderr, "dmq: acknowledgement refused (%s); the records will be redelivered\n",
                   res->body.substr(0, 200).c_str());
      unavailable = 0;
      return rapidjson::Document();
    }
    if (res->status != 200 || doc.HasParseError() || !doc.IsObject()) {
      std::string reason = !doc.HasParseError() && doc.IsObject() && doc.HasMember("error")
                               ? doc["error"]["message"].GetString()
                               : res->body.substr(0, 200);
      throw ClientError(path + " answered " + std::to_string(res->status) + ": " + reason);
    }
    unavailable = 0;
    return doc;
  }

  std::vector<ShareRecord> fetch(int& unavailable) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("topics");
    w.StartArray();
    w.String(args_.topic.c_str());
    w.EndArray();
    w.Key("max_records");
    w.Int(args_.share_batch);
    w.Key("wait_ms");
    w.Int(kFetchWaitMs);
    if (!member_.empty()) {
      w.Key("member_id");
      w.String(member_.c_str());
    }
    w.EndObject();
    auto doc = post(group_path("fetch"), buf.GetString(), unavailable);
    if (!doc) return {};
    auto records = parse_records(*doc);
    member_ = (*doc)["member_id"].GetString();
    return records;
  }

  Outcome handle(const ShareRecord& r) {
    ++handled_;
    if (args_.exec.empty()) {
      Message m{r.topic, r.partition, r.offset, r.timestamp_ms, r.key, r.value, {}};
      for (const auto& [k, v] : r.headers) m.headers.push_back({k, v});
      out_.clear();
      if (inv_.common.json) {
        render_json(m, out_);
        out_ += '\n';
      } else {
        format_.render(m, out_);
      }
      print(out_);
      return {&r, "accept", ""};
    }
    std::map<std::string, std::string> env = {
        {"DMQ_TOPIC", r.topic},
        {"DMQ_PARTITION", std::to_string(r.partition)},
        {"DMQ_OFFSET", std::to_string(r.offset)},
        {"DMQ_DELIVERY_COUNT", std::to_string(r.delivery_count)},
        {"DMQ_GROUP", args_.share_group}};
    if (r.key) env["DMQ_KEY"] = *r.key;
    auto result = run_command(args_.exec, r.value.value_or(""), env);
    if (result.exit_code == 0) return {&r, "accept", ""};
    std::string error = "exit status " + std::to_string(result.exit_code);
    if (!result.stderr_tail.empty()) error += ": " + result.stderr_tail;
    return {&r, "release", error};
  }

  void acknowledge(const std::vector<Outcome>& outcomes) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("member_id");
    w.String(member_.c_str());
    w.Key("acks");
    w.StartArray();
    for (const auto& o : outcomes) {
      w.StartObject();
      w.Key("topic");
      w.String(o.record->topic.c_str());
      w.Key("partition");
      w.Int(o.record->partition);
      w.Key("offset");
      w.Int64(o.record->offset);
      w.Key("type");
      w.String(o.type);
      if (!o.error.empty()) {
        w.Key("error");
        w.String(o.error.c_str(), static_cast<rapidjson::SizeType>(o.error.size()));
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    for (int unavailable = 0;;) {
      if (post(group_path("ack"), buf.GetString(), unavailable, true)) return;
    }
  }

  const Invocation& inv_;
  const ConsumeArgs& args_;
  OutputFormat format_;
  httplib::Client http_;
  std::string member_;
  int64_t handled_ = 0;
  std::string out_;
};

}  // namespace

int run_share_consume(const Invocation& inv) {
  std::string error;
  auto format = OutputFormat::parse(inv.consume.format, &error);
  if (!format) throw usage_error(error);
  // A command that stops reading its input must not kill the consumer.
  std::signal(SIGPIPE, SIG_IGN);
  install_stop_signals();
  ShareWorker worker(inv, std::move(*format));
  worker.run();
  return 0;
}

}  // namespace dmq::client
