#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/options.h"

namespace {

dmq::ParseOutcome parse(std::vector<std::string> args, dmq::Options* options) {
  args.insert(args.begin(), "dmq");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return dmq::parse_options(static_cast<int>(argv.size()), argv.data(), options);
}

}  // namespace

TEST_CASE("defaults describe a single-node combined cluster") {
  dmq::Options o;
  auto outcome = parse({}, &o);
  CHECK(outcome.action == dmq::ParseOutcome::Action::kRun);
  CHECK(o.role == dmq::Role::kCombined);
  CHECK(o.node_id == 1);
  CHECK(o.data_dir == "./dmq-data");
  CHECK(o.http_listen == dmq::HostPort{"127.0.0.1", 8080});
  CHECK(o.kafka_listen == dmq::HostPort{"127.0.0.1", 9092});
  CHECK(o.advertised_kafka == o.kafka_listen);
  REQUIRE(o.controllers.size() == 1);
  CHECK(o.controllers[0].node_id == 1);
  CHECK(o.controllers[0].http == o.http_listen);
}

TEST_CASE("flags set every documented option") {
  dmq::Options o;
  auto outcome = parse(
      {"--role=controller", "--node-id=3", "--data-dir=/tmp/x", "--http-listen=127.0.0.1:8083",
       "--kafka-listen=0.0.0.0:9093", "--advertised-kafka=host.example:19093",
       "--controllers=1@127.0.0.1:8081,2@127.0.0.1:8082,3@127.0.0.1:8083", "--log-level=debug",
       "--log-format=json", "--num.partitions=6", "--min.insync.replicas=2"},
      &o);
  REQUIRE(outcome.action == dmq::ParseOutcome::Action::kRun);
  CHECK(o.role == dmq::Role::kController);
  CHECK(o.node_id == 3);
  CHECK(o.advertised_kafka == dmq::HostPort{"host.example", 19093});
  CHECK(o.controllers.size() == 3);
  CHECK(o.controllers[2].http.port == 8083);
  CHECK(o.log_format == "json");
  CHECK(o.num_partitions == 6);
  CHECK(o.min_insync_replicas == 2);
}

TEST_CASE("HTTP connection bounds: idle timeout and connection cap") {
  dmq::Options defaults;
  REQUIRE(parse({}, &defaults).action == dmq::ParseOutcome::Action::kRun);
  CHECK(defaults.http_idle_timeout_ms == 60000);
  CHECK(defaults.http_max_connections == 5000);
  dmq::Options o;
  REQUIRE(parse({"--http.idle.timeout.ms=500", "--http.max.connections=7"}, &o).action ==
          dmq::ParseOutcome::Action::kRun);
  CHECK(o.http_idle_timeout_ms == 500);
  CHECK(o.http_max_connections == 7);
}

TEST_CASE("bad usage exits 2 with one line") {
  const std::vector<std::vector<std::string>> bad = {
      {"--role=leader"},
      {"--node-id=abc"},
      {"--node-id=0"},
      {"--http-listen=nohost"},
      {"--kafka-listen=h:70000"},
      {"--unknown-flag"},
      {"--controllers=x@1"},
      {"--controllers=1@a:1,1@b:2"},
      {"--role=broker"},
      {"--log-format=xml"},
      {"--num.partitions=0"},
      {"--http.idle.timeout.ms=0"},
      {"--http.max.connections=0"},
  };
  for (const auto& args : bad) {
    dmq::Options o;
    auto outcome = parse(args, &o);
    INFO(args[0]);
    CHECK(outcome.action == dmq::ParseOutcome::Action::kExit);
    CHECK(outcome.exit_code == 2);
    CHECK(outcome.output.find('\n') == std::string::npos);
    CHECK(outcome.output.rfind("dmq: ", 0) == 0);
  }
}

TEST_CASE("help and version exit 0") {
  dmq::Options o;
  auto help = parse({"--help"}, &o);
  CHECK(help.action == dmq::ParseOutcome::Action::kExit);
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("--controllers") != std::string::npos);
  auto version = parse({"--version"}, &o);
  CHECK(version.exit_code == 0);
  CHECK(version.output.rfind("dmq ", 0) == 0);
}

TEST_CASE("config file is read and flags override it") {
  std::string path = "/tmp/dmq_options_test_" + std::to_string(::getpid()) + ".toml";
  {
    std::ofstream f(path);
    f << "role = \"broker\"\nnode-id = 7\ncontrollers = \"1@127.0.0.1:8080\"\n"
         "num.partitions = 4\nretention.ms = 1000\n";
  }
  dmq::Options o;
  auto outcome = parse({"--config", path, "--num.partitions=5"}, &o);
  REQUIRE(outcome.action == dmq::ParseOutcome::Action::kRun);
  CHECK(o.role == dmq::Role::kBroker);
  CHECK(o.node_id == 7);
  CHECK(o.num_partitions == 5);
  CHECK(o.retention_ms == 1000);

  {
    std::ofstream f(path);
    f << "no.such.option = 1\n";
  }
  dmq::Options o2;
  auto bad = parse({"--config", path}, &o2);
  CHECK(bad.exit_code == 2);
  std::remove(path.c_str());
}

TEST_CASE("the shipped etc/dmq.toml parses and matches the built-in defaults") {
  std::string path = std::string(DMQ_SOURCE_DIR) + "/etc/dmq.toml";
  dmq::Options from_file;
  auto outcome = parse({"--config", path}, &from_file);
  REQUIRE_MESSAGE(outcome.action == dmq::ParseOutcome::Action::kRun, outcome.output);
  dmq::Options defaults;
  parse({}, &defaults);
  CHECK(from_file.data_dir == defaults.data_dir);
  CHECK(from_file.http_listen == defaults.http_listen);
  CHECK(from_file.num_partitions == defaults.num_partitions);
  CHECK(from_file.retention_ms == defaults.retention_ms);
  CHECK(from_file.segment_bytes == defaults.segment_bytes);
  CHECK(from_file.message_max_bytes == defaults.message_max_bytes);
  CHECK(from_file.broker_session_timeout_ms == defaults.broker_session_timeout_ms);
  CHECK(from_file.log_flush_on_ack == defaults.log_flush_on_ack);
  CHECK(from_file.auto_leader_rebalance_enable == defaults.auto_leader_rebalance_enable);
  CHECK(from_file.follower_replication_throttled_rate ==
        defaults.follower_replication_throttled_rate);
}

TEST_CASE("reassignment options: leader rebalance switch and the replication throttle") {
  dmq::Options o;
  REQUIRE(parse({"--auto.leader.rebalance.enable=false",
                 "--follower.replication.throttled.rate=1048576"},
                &o)
              .action == dmq::ParseOutcome::Action::kRun);
  CHECK_FALSE(o.auto_leader_rebalance_enable);
  CHECK(o.follower_replication_throttled_rate == 1048576);
  dmq::Options bad;
  CHECK(parse({"--follower.replication.throttled.rate=-5"}, &bad).exit_code == 2);
}

TEST_CASE("host:port parsing") {
  CHECK(dmq::parse_host_port("localhost:1").has_value());
  CHECK(dmq::parse_host_port("[::1]:9092")->host == "::1");
  CHECK_FALSE(dmq::parse_host_port(":80").has_value());
  CHECK_FALSE(dmq::parse_host_port("host:0").has_value());
  CHECK_FALSE(dmq::parse_host_port("host:").has_value());
  CHECK_FALSE(dmq::parse_host_port("host:12x").has_value());
}

TEST_CASE("--http.listeners picks the HTTP address and whether it serves HTTPS") {
  dmq::Options o;
  auto outcome = parse({"--http.listeners=HTTPS://0.0.0.0:8443", "--cluster.secret.file=/s"}, &o);
  REQUIRE(outcome.action == dmq::ParseOutcome::Action::kRun);
  CHECK(o.http_listen == dmq::HostPort{"0.0.0.0", 8443});
  CHECK(o.security.http_tls);
  CHECK(o.security.cluster_secret_file == "/s");
  CHECK(o.controllers[0].http == o.http_listen);

  dmq::Options plain;
  REQUIRE(parse({"--http.listeners=http://127.0.0.1:9000"}, &plain).action ==
          dmq::ParseOutcome::Action::kRun);
  CHECK(plain.http_listen == dmq::HostPort{"127.0.0.1", 9000});
  CHECK_FALSE(plain.security.http_tls);

  for (const char* bad : {"--http.listeners=SPDY://127.0.0.1:1", "--http.listeners=127.0.0.1:1",
                          "--http.listeners=HTTPS://nohost", "--http.ssl.client.auth=maybe"}) {
    dmq::Options o2;
    auto refused = parse({bad}, &o2);
    CHECK(refused.action == dmq::ParseOutcome::Action::kExit);
    CHECK(refused.exit_code == 2);
    CHECK(refused.output.find('\n') == std::string::npos);
  }
}

TEST_CASE("backpressure and connection limits take Kafka's names") {
  dmq::Options o;
  REQUIRE(parse({"--queued.max.request.bytes=209715200", "--max.connections=100",
                 "--max.connections.per.ip=10",
                 "--max.connections.per.ip.overrides=127.0.0.1:50,::1:0"},
                &o)
              .action == dmq::ParseOutcome::Action::kRun);
  CHECK(o.queued_max_request_bytes == 209715200);
  CHECK(o.max_connections == 100);
  CHECK(o.max_connections_per_ip == 10);
  CHECK(o.max_connections_per_ip_overrides.at("127.0.0.1") == 50);
  CHECK(o.max_connections_per_ip_overrides.at("::1") == 0);

  dmq::Options unbounded;
  REQUIRE(parse({"--queued.max.request.bytes=-1"}, &unbounded).action ==
          dmq::ParseOutcome::Action::kRun);

  for (const char* bad :
       {"--queued.max.request.bytes=1024", "--max.connections.per.ip.overrides=127.0.0.1",
        "--max.connections.per.ip.overrides=127.0.0.1:x", "--max.connections=-1"}) {
    dmq::Options o2;
    auto refused = parse({bad}, &o2);
    CHECK(refused.action == dmq::ParseOutcome::Action::kExit);
    CHECK(refused.exit_code == 2);
  }
}
