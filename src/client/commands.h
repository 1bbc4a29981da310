#pragma once
// The client subcommands. Each run_* takes a parsed Invocation, talks to the
// cluster through KafkaClient, prints to stdout (a table, or JSON with
// --json), and returns the exit code; failures are ClientErrors caught by
// run_client(). Shared helpers for the commands follow.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "client/args.h"
#include "client/kafka_client.h"

namespace dmq::client {

// Parses argv (argv[1] is a client subcommand) and runs it. Exit codes: 0 ok,
// 1 failure (one line on stderr), 2 bad usage.
int run_client(int argc, const char* const* argv);

int run_topic(const Invocation& inv);
int run_produce(const Invocation& inv);
int run_consume(const Invocation& inv);
int run_share_consume(const Invocation& inv);  // consume --share
int run_group(const Invocation& inv);
int run_cluster(const Invocation& inv);
int run_bench(const Invocation& inv);

// ---- helpers shared by the commands ----------------------------------------------

ClientConfig client_config(const CommonArgs& common);

// Offsets from ListOffsets for `partitions` of `topic` at `timestamp` (-1
// latest, -2 earliest, or ms), asking each partition's leader and refreshing
// the metadata when leadership moved. A timestamp after the last record gives
// -1 (Kafka's answer), which callers treat as "the end".
std::map<int32_t, int64_t> list_offsets(KafkaClient& client, const std::string& topic,
                                        const std::vector<int32_t>& partitions, int64_t timestamp);

// Commits `offsets` of `topic` for `group` as member `member_id` of
// `generation` (-1 and "": a simple consumer), retrying while the coordinator
// moves; returns the first partition's error.
kafka::ErrorCode send_commit(KafkaClient& client, const std::string& group,
                             const std::string& topic, const std::map<int32_t, int64_t>& offsets,
                             int32_t generation, std::string_view member_id);

// Commits `offsets` of `topic` for `group` as a simple (generation -1)
// consumer, retrying when the coordinator moves. Throws on a refusal.
void commit_offsets(KafkaClient& client, const std::string& group, const std::string& topic,
                    const std::map<int32_t, int64_t>& offsets);

// All partition indexes of a topic, or the one asked for (checked to exist).
std::vector<int32_t> partitions_of(const TopicInfo& topic, std::optional<int32_t> only);

// `{"deleted":"NAME"}` with --json, else "deleted KIND NAME".
void print_deleted(bool json, const std::string& kind, const std::string& name);

// Writes `text` to stdout and flushes, so output reaches a pipe at once.
void print(const std::string& text);

}  // namespace dmq::client
