// The client command line: names and defaults from DESIGN.md section 5,
// conflicts, and exit code 2 with one line for every usage error.

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "client/args.h"

using namespace dmq::client;

namespace {

ParseResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "dmq");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_client_args(static_cast<int>(argv.size()), argv.data());
}

void check_usage_error(std::vector<std::string> args, const std::string& fragment) {
  auto r = parse(args);
  CHECK_FALSE(r.invocation.has_value());
  CHECK(r.exit_code == 2);
  CHECK(r.output.find('\n') == std::string::npos);
  CHECK_MESSAGE(r.output.find(fragment) != std::string::npos, r.output);
}

}  // namespace

TEST_CASE("only the client subcommands leave the node parser") {
  const char* topic[] = {"dmq", "topic", "list"};
  const char* node[] = {"dmq", "--role=combined"};
  const char* bare[] = {"dmq"};
  const char* global_first[] = {"dmq", "--brokers", "h:1", "--json", "topic", "list"};
  const char* global_eq[] = {"dmq", "--brokers=h:1", "consume", "t"};
  const char* node_flags[] = {"dmq", "--role", "broker", "--data-dir", "topic"};
  CHECK(is_client_command(3, topic));
  CHECK(is_client_command(6, global_first));
  CHECK(is_client_command(4, global_eq));
  CHECK_FALSE(is_client_command(2, node));
  CHECK_FALSE(is_client_command(1, bare));
  CHECK_FALSE(is_client_command(5, node_flags));
}

TEST_CASE("topic create takes the contract's names") {
  auto r = parse({"topic", "create", "orders", "--partitions", "3", "--replication-factor", "2",
                  "--config", "retention.ms=1000", "--brokers", "h1:1,h2:2", "--json"});
  REQUIRE(r.invocation.has_value());
  const auto& inv = *r.invocation;
  CHECK(inv.command == "topic");
  CHECK(inv.topic.action == "create");
  CHECK(inv.topic.name == "orders");
  CHECK(inv.topic.partitions == 3);
  CHECK(inv.topic.replication_factor == 2);
  CHECK(inv.topic.configs.at(0).first == "retention.ms");
  CHECK(inv.common.json);
  REQUIRE(inv.common.brokers.size() == 2);
  CHECK(inv.common.brokers[1].host == "h2");
  CHECK(inv.common.brokers[1].port == 2);
}

TEST_CASE("brokers come from --brokers, else DMQ_BROKERS, else localhost:9092") {
  unsetenv("DMQ_BROKERS");
  CHECK(parse({"topic", "list"}).invocation->common.brokers.at(0).port == 9092);
  setenv("DMQ_BROKERS", "envhost:7000", 1);
  CHECK(parse({"topic", "list"}).invocation->common.brokers.at(0).host == "envhost");
  CHECK(parse({"--brokers", "flag:1", "topic", "list"}).invocation->common.brokers.at(0).host ==
        "flag");
  unsetenv("DMQ_BROKERS");
}

TEST_CASE("produce options parse into the producer's settings") {
  auto r = parse({"produce", "t", "--key-separator", ":", "--header", "a=1", "--header", "b=x=y",
                  "--acks", "1", "--compression", "zstd", "--partition", "2"});
  REQUIRE(r.invocation.has_value());
  const auto& p = r.invocation->produce;
  CHECK(p.topic == "t");
  CHECK(*p.key_separator == ":");
  CHECK(p.headers.size() == 2);
  CHECK(p.headers[1].second == "x=y");
  CHECK(p.acks == 1);
  CHECK(p.compression == "zstd");
  CHECK(p.partition == 2);
  CHECK(parse({"produce", "t"}).invocation->produce.acks == -1);
  CHECK_FALSE(parse({"produce", "t"}).invocation->produce.partition.has_value());
}

TEST_CASE("consume start positions are exclusive and recorded") {
  auto r = parse({"consume", "t", "--from-beginning", "--max-messages", "5", "--group", "g"});
  REQUIRE(r.invocation.has_value());
  CHECK(r.invocation->consume.start == StartAt::kBeginning);
  CHECK(r.invocation->consume.max_messages == 5);
  CHECK(r.invocation->consume.group == "g");
  auto o = parse({"consume", "t", "--offset", "7"});
  CHECK(o.invocation->consume.start == StartAt::kOffset);
  CHECK(o.invocation->consume.offset == 7);
  auto ts = parse({"consume", "t", "--from-timestamp", "1000"});
  CHECK(ts.invocation->consume.start == StartAt::kTimestamp);
  CHECK(parse({"consume", "t"}).invocation->consume.start == StartAt::kDefault);
  check_usage_error({"consume", "t", "--from-beginning", "--from-end"}, "excludes");
  check_usage_error({"consume", "t", "--offset", "1", "--from-timestamp", "2"}, "excludes");
}

TEST_CASE("consume --share: a share-group worker over REST, with or without --exec") {
  unsetenv("DMQ_HTTP");
  auto r = parse({"consume", "jobs", "--share", "workers", "--exec", "handle.sh", "--share-batch",
                  "10", "--http", "node:8081"});
  REQUIRE(r.invocation);
  CHECK(r.invocation->consume.share_group == "workers");
  CHECK(r.invocation->consume.exec == "handle.sh");
  CHECK(r.invocation->consume.share_batch == 10);
  CHECK(r.invocation->common.http == "node:8081");
  CHECK(parse({"consume", "jobs", "--share", "w"}).invocation->common.http == "localhost:8080");
  setenv("DMQ_HTTP", "envnode:9", 1);
  CHECK(parse({"consume", "jobs", "--share", "w"}).invocation->common.http == "envnode:9");
  unsetenv("DMQ_HTTP");
  check_usage_error({"consume", "t", "--exec", "x"}, "--share");
  check_usage_error({"consume", "t", "--share-batch", "5"}, "--share");
  check_usage_error({"consume", "t", "--share", "g", "--group", "g2"}, "excludes");
  check_usage_error({"consume", "t", "--share", "g", "--from-beginning"}, "excludes");
  check_usage_error({"consume", "t", "--share", "g", "--partition", "1"}, "excludes");
  check_usage_error({"consume", "t", "--share", "g", "--share-batch", "0"}, "--share-batch");
  check_usage_error({"consume", "t", "--share", "g", "--http", "nohostport"},
                    "--http 'nohostport'");
}

TEST_CASE("consume --group takes a session timeout; without --group it is bad usage") {
  CHECK(parse({"consume", "t", "--group", "g"}).invocation->consume.session_timeout_ms == 10000);
  auto r = parse({"consume", "t", "--group", "g", "--session-timeout-ms", "6000"});
  REQUIRE(r.invocation.has_value());
  CHECK(r.invocation->consume.session_timeout_ms == 6000);
  check_usage_error({"consume", "t", "--session-timeout-ms", "6000"}, "--group");
  check_usage_error({"consume", "t", "--group", "g", "--session-timeout-ms", "10"},
                    "--session-timeout-ms");
}

TEST_CASE("usage errors are one line with exit code 2") {
  check_usage_error({"topic"}, "subcommand");
  check_usage_error({"topic", "create"}, "name");
  check_usage_error({"topic", "create", "t", "--partitions", "0"}, "--partitions");
  check_usage_error({"produce", "t", "--acks", "2"}, "--acks '2'");
  check_usage_error({"produce", "t", "--header", "nokey"}, "--header 'nokey' is not k=v");
  check_usage_error({"produce", "t", "--compression", "brotli"}, "--compression");
  check_usage_error({"produce", "t", "--compression", "snappy"}, "snappy");
  check_usage_error({"topic", "list", "--brokers", "nohostport"}, "broker 'nohostport'");
  check_usage_error({"group", "reset-offsets", "g", "--topic", "t"}, "--to-earliest");
  check_usage_error({"consume", "t", "--bogus"}, "--bogus");
}

TEST_CASE("help exits 0 with the subcommand's text") {
  auto r = parse({"produce", "--help"});
  CHECK_FALSE(r.invocation.has_value());
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("--key-separator") != std::string::npos);
}

TEST_CASE("group, cluster and bench subcommands parse") {
  auto g = parse({"group", "reset-offsets", "g", "--topic", "t", "--to-offset", "3", "--execute"});
  REQUIRE(g.invocation.has_value());
  CHECK(g.invocation->group.to == StartAt::kOffset);
  CHECK(g.invocation->group.to_offset == 3);
  CHECK(g.invocation->group.execute);
  CHECK(parse({"cluster", "status", "--http", "h:1"}).invocation->common.http == "h:1");
  auto b = parse({"bench", "produce", "t", "--records", "10", "--record-size", "5"});
  REQUIRE(b.invocation.has_value());
  CHECK(b.invocation->bench.action == "produce");
  CHECK(b.invocation->bench.records == 10);
  CHECK(b.invocation->bench.record_size == 5);
}
