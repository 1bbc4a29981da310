#pragma once
// The client subcommands' command line: `dmq topic|produce|consume|group|
// cluster|bench ...`. Parsing is kept apart from running so that tests check
// the contract (names, defaults, conflicts, exit code 2 for bad usage)
// without a broker. Brokers come from --brokers, else DMQ_BROKERS, else
// localhost:9092.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/options.h"

namespace dmq::client {

struct CommonArgs {
  std::vector<HostPort> brokers;
  bool json = false;
  std::string
      http;  // REST address: `cluster status` (optional), `cluster rebalance`, `consume --share`
  int timeout_ms = 15000;
};

struct TopicArgs {
  std::string action;  // create, list, describe, delete, delete-records
  std::string name;
  int32_t partition = -1;   // delete-records
  int64_t offset = -1;      // delete-records: the new log start offset; -1 the high watermark
  int32_t partitions = -1;  // -1: broker default
  int16_t replication_factor = -1;  // -1: broker default
  std::vector<std::pair<std::string, std::string>> configs;
  bool if_not_exists = false;
};

struct ProduceArgs {
  std::string topic;
  std::string file;  // empty: stdin
  std::optional<std::string> key_separator;
  std::vector<std::pair<std::string, std::string>> headers;
  int16_t acks = -1;
  std::string compression = "none";
  std::optional<int32_t> partition;
  int32_t batch_records = 1000;  // records per batch before it is sent
};

enum class StartAt { kDefault, kBeginning, kEnd, kOffset, kTimestamp };

struct ConsumeArgs {
  std::string topic;
  StartAt start = StartAt::kDefault;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::string group;
  int64_t max_messages = -1;  // -1: until SIGINT (or --exit-at-end)
  std::string format = "%v\\n";
  std::optional<int32_t> partition;
  bool exit_at_end = false;
  int32_t max_wait_ms = 500;
  int32_t session_timeout_ms = 10000;  // --group: the member's session
  // --share: a share-group worker over the REST API (--http) instead of a
  // Kafka consumer; --exec runs a command per record.
  std::string share_group;
  std::string exec;
  int32_t share_batch = 100;
};

struct GroupArgs {
  std::string action;  // list, describe, reset-offsets, delete
  std::string group;
  std::string topic;  // reset-offsets
  StartAt to = StartAt::kDefault;
  int64_t to_offset = 0;
  int64_t to_timestamp_ms = 0;
  bool execute = false;
};

struct BenchArgs {
  std::string action;  // produce, consume
  std::string topic;
  int64_t records = 100000;
  int32_t record_size = 100;
  int32_t batch_records = 500;
  int32_t in_flight = 5;  // requests per broker connection before waiting
  int16_t acks = -1;
  std::string compression = "none";
};

struct Invocation {
  std::string command;         // topic, produce, consume, group, cluster, bench
  std::string cluster_action;  // status, rebalance
  CommonArgs common;
  TopicArgs topic;
  ProduceArgs produce;
  ConsumeArgs consume;
  GroupArgs group;
  BenchArgs bench;
};

struct ParseResult {
  std::optional<Invocation> invocation;  // set when there is work to do
  int exit_code = 0;                     // otherwise: 0 after --help, 2 bad usage
  std::string output;                    // help text (stdout) or one error line (stderr)
};

// True when argv names a client subcommand (after any of the client's global
// options); otherwise `dmq` starts a node.
bool is_client_command(int argc, const char* const* argv);

ParseResult parse_client_args(int argc, const char* const* argv);

// "host:port[,host:port...]"; nullopt and `error` when an entry is malformed.
std::optional<std::vector<HostPort>> parse_broker_list(const std::string& text, std::string* error);

// "all" or "-1", "1", "0"; nullopt otherwise.
std::optional<int16_t> parse_acks(const std::string& text);

}  // namespace dmq::client
