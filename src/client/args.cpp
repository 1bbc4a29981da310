#include "client/args.h"

#include "client/format.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <set>
#include <sstream>

namespace dmq::client {
namespace {

const std::set<std::string> kCommands = {"topic", "produce", "consume",
                                         "group", "cluster", "bench"};

std::string first_line(const std::string& text) {
  auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

// Values that CLI11 cannot check on its own are gathered here and checked
// after parsing, so every usage error still leaves as one line and exit 2.
struct Raw {
  std::string brokers;
  std::string acks = "all";
  int32_t partition = -1;
  std::vector<std::string> configs;
  std::vector<std::string> headers;
  std::string group_to = "";
  std::vector<CLI::Option*> partition_opts;  // produce's and consume's --partition
};

void add_topic(CLI::App& app, Invocation& inv, Raw& raw) {
  auto* topic = app.add_subcommand("topic", "Create, list, describe and delete topics");
  topic->require_subcommand(1);
  auto& t = inv.topic;
  auto* create = topic->add_subcommand("create", "Create a topic");
  create->add_option("name", t.name, "Topic name")->required();
  create->add_option("--partitions", t.partitions, "Partitions (default: the broker's)")
      ->check(CLI::Range(1, 100000));
  create
      ->add_option("--replication-factor", t.replication_factor,
                   "Replicas per partition (default: the broker's)")
      ->check(CLI::Range(1, 32));
  create->add_option("--config", raw.configs, "Topic config k=v (repeatable)");
  create->add_flag("--if-not-exists", t.if_not_exists, "Succeed if the topic exists");
  topic->add_subcommand("list", "List topics");
  auto* describe = topic->add_subcommand("describe", "Partitions, leaders, ISR and configs");
  describe->add_option("name", t.name, "Topic name")->required();
  auto* remove = topic->add_subcommand("delete", "Delete a topic");
  remove->add_option("name", t.name, "Topic name")->required();
  auto* trim = topic->add_subcommand(
      "delete-records", "Delete a partition's records below an offset (DeleteRecords)");
  trim->add_option("name", t.name, "Topic name")->required();
  trim->add_option("--partition", t.partition, "Partition")
      ->required()
      ->check(CLI::NonNegativeNumber);
  trim->add_option("--offset", t.offset,
                   "The new first offset; records below it go (-1: the high watermark)")
      ->required()
      ->check(CLI::Range(int64_t{-1}, INT64_MAX));
}

void add_produce(CLI::App& app, Invocation& inv, Raw& raw) {
  auto* produce = app.add_subcommand("produce", "Produce one record per input line");
  auto& p = inv.produce;
  produce->add_option("topic", p.topic, "Topic")->required();
  produce->add_option("--file", p.file, "Read lines from this file instead of stdin")
      ->check(CLI::ExistingFile);
  produce->add_option("--key-separator", p.key_separator,
                      "Split each line into key and value at the first occurrence");
  produce->add_option("--header", raw.headers, "Header k=v on every record (repeatable)");
  produce->add_option("--acks", raw.acks, "all (-1), 1 or 0")->capture_default_str();
  produce->add_option("--compression", p.compression, "none, gzip, lz4 or zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}))
      ->capture_default_str();
  raw.partition_opts.push_back(
      produce->add_option("--partition", raw.partition, "Produce to this partition")
          ->check(CLI::Range(0, INT32_MAX)));
  produce->add_option("--batch-records", p.batch_records, "Records per batch")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
}

void add_start_options(CLI::App* sub, ConsumeArgs& c, Raw& raw) {
  auto* begin = sub->add_flag_callback(
      "--from-beginning", [&c] { c.start = StartAt::kBeginning; }, "Start at the earliest offset");
  auto* end = sub->add_flag_callback(
      "--from-end", [&c] { c.start = StartAt::kEnd; }, "Start at the end (new records only)");
  auto* offset = sub->add_option_function<int64_t>(
                        "--offset",
                        [&c](int64_t v) {
                          c.start = StartAt::kOffset;
                          c.offset = v;
                        },
                        "Start at this offset in every partition")
                     ->check(CLI::Range(int64_t{0}, INT64_MAX));
  auto* ts = sub->add_option_function<int64_t>(
                    "--from-timestamp",
                    [&c](int64_t v) {
                      c.start = StartAt::kTimestamp;
                      c.timestamp_ms = v;
                    },
                    "Start at the first record at or after this time (ms since the epoch)")
                 ->check(CLI::Range(int64_t{0}, INT64_MAX));
  begin->excludes(end)->excludes(offset)->excludes(ts);
  end->excludes(offset)->excludes(ts);
  offset->excludes(ts);
}

void add_consume(CLI::App& app, Invocation& inv, Raw& raw) {
  auto* consume = app.add_subcommand("consume", "Print records, one per line");
  auto& c = inv.consume;
  consume->add_option("topic", c.topic, "Topic")->required();
  add_start_options(consume, c, raw);
  auto* group = consume->add_option(
      "--group", c.group,
      "Join this consumer group and read the partitions it assigns (with --partition: commit "
      "as a simple consumer)");
  consume
      ->add_option("--session-timeout-ms", c.session_timeout_ms,
                   "With --group: the member's session timeout (heartbeats every third)")
      ->check(CLI::Range(1000, 300000))
      ->needs(group);
  consume->add_option("--max-messages", c.max_messages, "Stop after this many records")
      ->check(CLI::Range(int64_t{1}, INT64_MAX));
  consume
      ->add_option("--format", c.format,
                   "Output template: %k key, %v value, %o offset, %p partition, %t topic, "
                   "%T timestamp, %h headers")
      ->capture_default_str();
  raw.partition_opts.push_back(
      consume->add_option("--partition", raw.partition, "Only this partition")
          ->check(CLI::Range(0, INT32_MAX)));
  auto* exit_at_end =
      consume->add_flag("--exit-at-end", c.exit_at_end, "Stop at the end of every partition");
  auto* share = consume->add_option("--share", c.share_group,
                                    "Consume as a member of this share group (REST, see --http)");
  share->excludes("--group")->excludes(exit_at_end)->excludes(raw.partition_opts.back());
  for (const char* start : {"--from-beginning", "--from-end", "--offset", "--from-timestamp"})
    share->excludes(start);
  consume
      ->add_option("--exec", c.exec,
                   "With --share: run this shell command per record (value on stdin, "
                   "DMQ_TOPIC/PARTITION/OFFSET/KEY/DELIVERY_COUNT/GROUP in the environment); "
                   "exit 0 accepts, anything else releases it for redelivery")
      ->needs(share);
  consume->add_option("--share-batch", c.share_batch, "With --share: records per fetch")
      ->check(CLI::Range(1, 10000))
      ->needs(share)
      ->capture_default_str();
}

void add_group(CLI::App& app, Invocation& inv, Raw& raw) {
  auto* group = app.add_subcommand("group", "List, describe, reset and delete consumer groups");
  group->require_subcommand(1);
  auto& g = inv.group;
  group->add_subcommand("list", "List consumer groups");
  auto* describe = group->add_subcommand("describe", "Members, offsets and lag");
  describe->add_option("group", g.group, "Group id")->required();
  auto* reset = group->add_subcommand("reset-offsets", "Move a group's committed offsets");
  reset->add_option("group", g.group, "Group id")->required();
  reset->add_option("--topic", g.topic, "Topic whose offsets move")->required();
  auto* earliest = reset->add_flag_callback(
      "--to-earliest", [&g] { g.to = StartAt::kBeginning; }, "To the earliest offset");
  auto* latest = reset->add_flag_callback(
      "--to-latest", [&g] { g.to = StartAt::kEnd; }, "To the end");
  auto* to_offset = reset->add_option_function<int64_t>(
      "--to-offset",
      [&g](int64_t v) {
        g.to = StartAt::kOffset;
        g.to_offset = v;
      },
      "To this offset");
  auto* to_ts = reset->add_option_function<int64_t>(
      "--to-timestamp",
      [&g](int64_t v) {
        g.to = StartAt::kTimestamp;
        g.to_timestamp_ms = v;
      },
      "To the first offset at or after this time (ms)");
  earliest->excludes(latest)->excludes(to_offset)->excludes(to_ts);
  latest->excludes(to_offset)->excludes(to_ts);
  to_offset->excludes(to_ts);
  reset->add_flag("--execute", g.execute, "Apply the plan (without it, only print it)");
  auto* remove = group->add_subcommand("delete", "Delete an empty group and its offsets");
  remove->add_option("group", g.group, "Group id")->required();
}

void add_cluster_and_bench(CLI::App& app, Invocation& inv, Raw& raw) {
  auto* cluster = app.add_subcommand("cluster", "Cluster state");
  cluster->require_subcommand(1);
  cluster->add_subcommand("status", "Controllers, brokers, under-replicated partitions");
  cluster->add_subcommand(
      "rebalance", "Spread replicas and leaders evenly over the live brokers (REST, --http)");
  auto* bench = app.add_subcommand("bench", "Measure throughput and latency");
  bench->require_subcommand(1);
  auto& b = inv.bench;
  for (const char* action : {"produce", "consume"}) {
    auto* sub = bench->add_subcommand(action, std::string("Benchmark ") + action);
    sub->add_option("topic", b.topic, "Topic (must exist)")->required();
    sub->add_option("--records", b.records, "Records to send or read")
        ->check(CLI::Range(int64_t{1}, INT64_MAX))
        ->capture_default_str();
    if (std::string(action) == "consume") continue;
    sub->add_option("--record-size", b.record_size, "Value bytes per record")
        ->check(CLI::Range(0, 10 << 20))
        ->capture_default_str();
    sub->add_option("--batch-records", b.batch_records, "Records per batch")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    sub->add_option("--in-flight", b.in_flight, "Requests in flight per broker")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    sub->add_option("--acks", raw.acks, "all (-1), 1 or 0")->capture_default_str();
    sub->add_option("--compression", b.compression, "none, gzip, lz4 or zstd")
        ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}))
        ->capture_default_str();
  }
}

// The selected subcommand chain as words ("topic create").
std::vector<std::string> selected(const CLI::App& app) {
  std::vector<std::string> words;
  const CLI::App* at = &app;
  while (true) {
    auto subs = at->get_subcommands();
    if (subs.empty()) break;
    at = subs.front();
    words.push_back(at->get_name());
  }
  return words;
}

std::optional<std::string> finish(Invocation& inv, Raw& raw,
                                  const std::vector<std::string>& words) {
  std::string error;
  auto brokers = parse_broker_list(raw.brokers, &error);
  if (!brokers) return error;
  inv.common.brokers = *brokers;
  inv.command = words.at(0);
  std::string action = words.size() > 1 ? words[1] : "";
  inv.topic.action = inv.group.action = inv.bench.action = inv.cluster_action = action;
  for (const auto& text : raw.configs) {
    auto kv = parse_header(text);
    if (!kv) return "--config '" + text + "' is not k=v";
    inv.topic.configs.push_back(*kv);
  }
  for (const auto& text : raw.headers) {
    auto kv = parse_header(text);
    if (!kv) return "--header '" + text + "' is not k=v";
    inv.produce.headers.push_back(*kv);
  }
  auto acks = parse_acks(raw.acks);
  if (!acks) return "--acks '" + raw.acks + "' is not all, -1, 1 or 0";
  inv.produce.acks = inv.bench.acks = *acks;
  for (const auto* option : raw.partition_opts) {
    if (option->count() > 0) inv.produce.partition = inv.consume.partition = raw.partition;
  }
  for (const auto* codec : {&inv.produce.compression, &inv.bench.compression}) {
    if (*codec == "snappy") return std::string("snappy compression is not available in this build");
  }
  const bool needs_http = (inv.command == "consume" && !inv.consume.share_group.empty()) ||
                          (inv.command == "cluster" && action == "rebalance");
  if (needs_http) {
    if (inv.common.http.empty()) {
      const char* http = std::getenv("DMQ_HTTP");
      inv.common.http = http != nullptr && *http != '\0' ? http : "localhost:8080";
    }
    if (!parse_host_port(inv.common.http))
      return "--http '" + inv.common.http + "' is not host:port";
  }
  if (inv.command == "group" && action == "reset-offsets" && inv.group.to == StartAt::kDefault) {
    return std::string(
        "reset-offsets needs --to-earliest, --to-latest, --to-offset or --to-timestamp");
  }
  return std::nullopt;
}

}  // namespace

bool is_client_command(int argc, const char* const* argv) {
  // The client's own global options may come before the subcommand
  // (`dmq --brokers h:p topic list`); no node option shares their names.
  int i = 1;
  while (i < argc) {
    std::string_view arg = argv[i];
    if (arg == "--json") {
      i += 1;
    } else if (arg == "--brokers" || arg == "--http" || arg == "--timeout-ms") {
      i += 2;
    } else if (arg.starts_with("--brokers=") || arg.starts_with("--http=") ||
               arg.starts_with("--timeout-ms=")) {
      i += 1;
    } else {
      break;
    }
  }
  return i < argc && kCommands.count(argv[i]) > 0;
}

std::optional<std::vector<HostPort>> parse_broker_list(const std::string& text,
                                                       std::string* error) {
  std::vector<HostPort> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    auto hp = parse_host_port(item);
    if (!hp) {
      *error = "broker '" + item + "' is not host:port";
      return std::nullopt;
    }
    out.push_back(*hp);
  }
  if (out.empty()) {
    *error = "--brokers is empty";
    return std::nullopt;
  }
  return out;
}

std::optional<int16_t> parse_acks(const std::string& text) {
  if (text == "all" || text == "-1") return int16_t{-1};
  if (text == "1") return int16_t{1};
  if (text == "0") return int16_t{0};
  return std::nullopt;
}

ParseResult parse_client_args(int argc, const char* const* argv) {
  CLI::App app{"DMQ client commands: speak the Kafka protocol to a cluster.", "dmq"};
  app.fallthrough();
  app.require_subcommand(1);
  Invocation inv;
  Raw raw;
  const char* env = std::getenv("DMQ_BROKERS");
  raw.brokers = env != nullptr && *env != '\0' ? env : "localhost:9092";
  app.add_option("--brokers", raw.brokers,
                 "Kafka bootstrap brokers host:port[,...] (env DMQ_BROKERS)")
      ->capture_default_str();
  app.add_flag("--json", inv.common.json, "Machine-readable JSON output");
  app.add_option("--http", inv.common.http,
                 "A node's REST address host:port (cluster status; consume --share, env DMQ_HTTP, "
                 "default localhost:8080)");
  app.add_option("--timeout-ms", inv.common.timeout_ms, "Per-request timeout")
      ->check(CLI::Range(100, 3600000))
      ->capture_default_str();
  add_topic(app, inv, raw);
  add_produce(app, inv, raw);
  add_consume(app, inv, raw);
  add_group(app, inv, raw);
  add_cluster_and_bench(app, inv, raw);
  ParseResult result;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.output = app.help();  // CLI11 shows the selected subcommand's help
    return result;
  } catch (const CLI::ParseError& e) {
    // Every usage error maps to 2, whatever CLI11's own code (105, 106, ...).
    result.exit_code = 2;
    result.output = "dmq: " + first_line(e.what()) + " (see dmq " + argv[1] + " --help)";
    return result;
  }
  if (auto error = finish(inv, raw, selected(app))) {
    result.exit_code = 2;
    result.output = "dmq: " + *error;
    return result;
  }
  result.invocation = std::move(inv);
  return result;
}

}  // namespace dmq::client
